/*
 * minikube-lite pause container: the process that holds a pod's namespaces.
 *
 * Sleeps until a signal arrives; exits 0 on SIGTERM or SIGINT (as PID 1 in a container,
 * signals without a handler are ignored, so the handlers are what make `docker stop`
 * prompt); reaps any child that gets reparented to it (SIGCHLD), so a pod that shares
 * its PID namespace leaves no zombies.
 *
 * Build: gcc -static -O2 -s -o pause pause.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define VERSION "3.10-minikube-lite"

static void write_str(int fd, const char *s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    s += w;
    n -= (size_t)w;
  }
}

static void on_down(int signo) {
  write_str(STDERR_FILENO, signo == SIGTERM ? "pause: got SIGTERM, shutting down\n"
                                            : "pause: got SIGINT, shutting down\n");
  _exit(0);
}

static void on_child(int signo) {
  (void)signo;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

static int install(int signo, void (*handler)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  return sigaction(signo, &sa, NULL);
}

int main(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
    printf("pause %s\n", VERSION);
    return 0;
  }
  if (getpid() != 1) {
    write_str(STDERR_FILENO, "pause: warning: not running as PID 1\n");
  }
  if (install(SIGINT, on_down, 0) < 0 || install(SIGTERM, on_down, 0) < 0 ||
      install(SIGCHLD, on_child, SA_NOCLDSTOP | SA_RESTART) < 0) {
    perror("pause: sigaction");
    return 1;
  }
  for (;;) {
    pause();
  }
  return 42; /* not reached */
}
