# Server-side apply with Debian's ruby-kubeclient (driven by clients.ssa.test.ts).
# Usage: ruby clients.ssa.rb SERVER TOKEN. Prints one line per step.
require 'kubeclient'

core = Kubeclient::Client.new(ARGV[0] + '/api', 'v1', auth_options: { bearer_token: ARGV[1] })
# A plain Hash: kubeclient sends `resource.to_json`, which for a Kubeclient::Resource is its inspect string.
cm = ->(data) { { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'rb', namespace: 'default' }, data: data } }
applied = core.apply_config_map(cm.call(a: '1'), field_manager: 'ruby', force: false)
puts ['applied', applied.data.a, applied.metadata.managedFields[0].manager].join(' ')
begin
  core.apply_config_map(cm.call(a: '2'), field_manager: 'other', force: false)
rescue Kubeclient::HttpError => e
  puts ['conflict', e.error_code].join(' ')
end
forced = core.apply_config_map(cm.call(a: '2'), field_manager: 'other')
puts ['forced', forced.data.a, forced.metadata.managedFields.map(&:manager).join(',')].join(' ')
