# Driven by clients.ruby.test.ts: Ruby's kubeclient (Debian's ruby-kubeclient) against the API
# server at ARGV[0] with the token ARGV[1]. Prints one line per step; the test compares them.
require 'kubeclient'
require 'json'

url, token = ARGV
auth = { bearer_token: token }
core = Kubeclient::Client.new("#{url}/api", 'v1', auth_options: auth)
apps = Kubeclient::Client.new("#{url}/apis/apps", 'v1', auth_options: auth)
out = ->(*parts) { puts parts.join(' '); $stdout.flush }

core.create_namespace(Kubeclient::Resource.new(metadata: { name: 'ruby' }))
out.call('namespace', core.get_namespace('ruby').metadata.name)

cm = Kubeclient::Resource.new(metadata: { name: 'settings', namespace: 'ruby', labels: { app: 'rb' } }, data: { color: 'blue' })
created = core.create_config_map(cm)
out.call('created', created.metadata.name, created.data.color)

# A watch from the created object's resourceVersion, on the legacy /api/v1/watch path kubeclient uses.
events = Queue.new
watcher = core.watch_config_maps(namespace: 'ruby', resource_version: created.metadata.resourceVersion)
reader = Thread.new do
  watcher.each do |notice|
    events << "#{notice.type} #{notice.object.metadata.name} #{notice.object.data&.color}"
  end
end

core.patch_config_map('settings', { data: { color: 'green' } }, 'ruby')
out.call('patched', core.get_config_map('settings', 'ruby').data.color)
merged = core.merge_patch_config_map('settings', { data: { size: 'xl' } }, 'ruby')
out.call('merge-patched', merged.data.color, merged.data.size)
list = core.get_config_maps(namespace: 'ruby', label_selector: 'app=rb')
out.call('listed', list.map { |c| c.metadata.name }.join(','), list.resourceVersion.to_s.empty? ? 'no-rv' : 'rv')
updated = core.get_config_map('settings', 'ruby')
updated.data.color = 'red'
out.call('updated', core.update_config_map(updated).data.color)
begin
  stale = Kubeclient::Resource.new(metadata: { name: 'settings', namespace: 'ruby', resourceVersion: '1' }, data: { color: 'x' })
  core.update_config_map(stale)
  out.call('stale update accepted')
rescue Kubeclient::HttpError => e
  out.call('stale', e.error_code)
end
begin
  core.get_config_map('missing', 'ruby')
rescue Kubeclient::ResourceNotFoundError => e
  out.call('missing', e.error_code)
end

dep = Kubeclient::Resource.new(
  metadata: { name: 'web', namespace: 'ruby' },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } } }
)
apps.create_deployment(dep)
d = apps.get_deployment('web', 'ruby')
out.call('deployment', d.metadata.name, d.spec.replicas, d.spec.strategy.type)

core.delete_config_map('settings', 'ruby')
deadline = Time.now + 10
seen = []
while !seen.any? { |e| e.start_with?('DELETED') } && Time.now < deadline
  begin
    seen << events.pop(true)
  rescue ThreadError
    sleep 0.05
  end
end
watcher.finish
reader.join(5)
seen.each { |e| out.call('event', e) }
out.call('deleted', core.get_config_maps(namespace: 'ruby').length)
