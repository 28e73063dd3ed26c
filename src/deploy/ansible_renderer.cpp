// Ansible target: an inventory and a playbook that install Weir and the
// model servers on each host and check the result. Files per host go under
// files/<host>/; the gateway config is a Jinja template so the install
// prefix and listen address stay playbook variables.
#include <set>

#include <fmt/format.h>

#include "deploy/renderer.h"

namespace weir::deploy {
namespace {

// The address Ansible's checks use to reach the gateway from its own host.
std::string CheckAddress(const std::string& listen) {
  const auto colon = listen.rfind(':');
  const std::string host = listen.substr(0, colon);
  const std::string port = colon == std::string::npos ? "8080" : listen.substr(colon + 1);
  return (host.empty() || host == "0.0.0.0" ? "127.0.0.1" : host) + ":" + port;
}

std::string InventoryLine(const plan::PlanHost& host) {
  std::string line = host.name;
  if (host.connection == "local") {
    line += " ansible_connection=local ansible_python_interpreter=\"{{ ansible_playbook_python }}\"";
  } else {
    line += " ansible_host=" + host.address;
    if (!host.ssh_user.empty()) line += " ansible_user=" + host.ssh_user;
  }
  return line + "\n";
}

std::string Inventory(const plan::Plan& plan, const std::string& gateway_host,
                      const std::set<std::string>& engine_hosts, const std::set<std::string>& builtin_hosts) {
  std::string out = fmt::format("# Rendered by `weir deploy --target ansible` for {}.\n", plan.model);
  out += "[weir_gateway]\n" + InventoryLine(*FindHost(plan, gateway_host));
  out += "\n[weir_builtin]\n";
  for (const std::string& host : builtin_hosts) out += InventoryLine(*FindHost(plan, host));
  out += "\n[model_servers]\n";
  for (const std::string& host : engine_hosts) out += InventoryLine(*FindHost(plan, host));
  return out;
}

std::string HostVars(const std::vector<std::string>& units, const std::vector<const plan::Deployment*>& gguf,
                     const std::string& config_file) {
  std::string out = "---\n";
  out += fmt::format("weir_config_file: {}\n", YamlQuote(config_file));
  out += "weir_model_units:";
  out += units.empty() ? " []\n" : "\n";
  for (const std::string& unit : units) out += "  - " + YamlQuote(unit) + "\n";
  out += "weir_gguf_models:";
  out += gguf.empty() ? " []\n" : "\n";
  for (const plan::Deployment* d : gguf) {
    out += fmt::format("  - file: {}\n    url: {}\n", YamlQuote(d->file),
                       YamlQuote("https://huggingface.co/" + d->source + "/resolve/main/" + d->file));
  }
  return out;
}

constexpr const char* kModelServerPlay = R"text(- name: Start the model servers
  hosts: model_servers
  become: true
  tasks:
    - name: Check that Docker is installed
      ansible.builtin.command: docker version --format '{{ '{{' }}.Server.Version{{ '}}' }}'
      changed_when: false

    - name: Create the Hugging Face cache and model directories
      ansible.builtin.file:
        path: "{{ item }}"
        state: directory
        mode: "0755"
      loop:
        - "{{ weir_data_dir }}/hf-cache"
        - "{{ weir_model_dir }}"

    - name: Install the model server units
      ansible.builtin.copy:
        src: "files/{{ inventory_hostname }}/{{ item }}"
        dest: "/etc/systemd/system/{{ item }}"
        mode: "0644"
      loop: "{{ weir_model_units }}"

    - name: Start the model servers
      ansible.builtin.systemd:
        name: "{{ item }}"
        state: started
        enabled: true
        daemon_reload: true
      loop: "{{ weir_model_units }}"

)text";

constexpr const char* kGatewayPlay = R"text(- name: Install and start Weir
  hosts: weir_gateway:weir_builtin
  tasks:
    - name: Create the Weir directories
      ansible.builtin.file:
        path: "{{ item }}"
        state: directory
        mode: "0755"
      loop:
        - "{{ weir_prefix }}/bin"
        - "{{ weir_prefix }}/etc"
        - "{{ weir_prefix }}/share/weir"
        - "{{ weir_prefix }}/log"
        - "{{ weir_prefix }}/run"
        - "{{ weir_data_dir }}"
        - "{{ weir_model_dir }}"

    - name: Install the weir binary
      ansible.builtin.copy:
        src: "{{ weir_binary }}"
        dest: "{{ weir_prefix }}/bin/weir"
        mode: "0755"

    - name: Install the model catalogue
      ansible.builtin.copy:
        src: "{{ weir_catalogue }}"
        dest: "{{ weir_prefix }}/share/weir/catalogue.yaml"
        mode: "0644"
      when: weir_catalogue | length > 0

    - name: Write the Weir configuration
      ansible.builtin.template:
        src: "files/{{ inventory_hostname }}/{{ weir_config_file }}"
        dest: "{{ weir_prefix }}/etc/weir.yaml"
        mode: "0644"

    - name: Check for the GGUF model files
      ansible.builtin.stat:
        path: "{{ weir_model_dir }}/{{ item.file }}"
      loop: "{{ weir_gguf_models }}"
      register: weir_gguf_present

    - name: Download missing GGUF model files
      ansible.builtin.get_url:
        url: "{{ item.item.url }}"
        dest: "{{ weir_model_dir }}/{{ item.item.file }}"
        mode: "0644"
      loop: "{{ weir_gguf_present.results }}"
      when: not item.stat.exists

    - name: Install the Weir unit
      ansible.builtin.copy:
        dest: /etc/systemd/system/weir.service
        mode: "0644"
        content: |
          [Unit]
          Description=Weir gateway
          Wants=network-online.target
          After=network-online.target

          [Service]
          ExecStart={{ weir_prefix }}/bin/weir serve --config {{ weir_prefix }}/etc/weir.yaml
          Restart=on-failure
          RestartSec=5

          [Install]
          WantedBy=multi-user.target
      become: true
      when: weir_service_manager == "systemd"

    - name: Start Weir with systemd
      ansible.builtin.systemd:
        name: weir
        state: restarted
        enabled: true
        daemon_reload: true
      become: true
      when: weir_service_manager == "systemd"

    - name: Start Weir as a background process
      ansible.builtin.shell: |
        pid_file="{{ weir_prefix }}/run/weir.pid"
        if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
          kill "$(cat "$pid_file")"
          sleep 1
        fi
        setsid nohup "{{ weir_prefix }}/bin/weir" serve --config "{{ weir_prefix }}/etc/weir.yaml" \
          < /dev/null > "{{ weir_prefix }}/log/weir.log" 2>&1 &
        echo $! > "$pid_file"
      args:
        executable: /bin/bash
      changed_when: true
      when: weir_service_manager == "process"

    - name: Wait for /readyz
      ansible.builtin.uri:
        url: "http://{{ weir_check_address }}/readyz"
        status_code: 200
      register: weir_readyz
      until: weir_readyz.status == 200
      retries: "{{ weir_ready_retries }}"
      delay: 1
      when: inventory_hostname in groups['weir_gateway']

    - name: Send a chat completion through the gateway
      ansible.builtin.uri:
        url: "http://{{ weir_check_address }}/v1/chat/completions"
        method: POST
        body_format: json
        headers: "{{ {'Authorization': 'Bearer ' + weir_api_key} if weir_api_key | length > 0 else {} }}"
        body:
          model: "{{ weir_model_alias }}"
          messages:
            - role: user
              content: Say hello in one word.
          max_tokens: 8
        status_code: 200
        timeout: 300
      register: weir_chat
      when: inventory_hostname in groups['weir_gateway']

    - name: Check the chat completion has a choice
      ansible.builtin.assert:
        that:
          - weir_chat.json.choices | length > 0
        fail_msg: "the gateway answered without choices: {{ weir_chat.json }}"
      when: inventory_hostname in groups['weir_gateway']
)text";

}  // namespace

Result<RenderedFiles> RenderAnsible(const plan::Plan& plan, const DeployOptions& options) {
  RenderedFiles files;
  const std::string gateway_host = GatewayHost(plan, options);
  DeployOptions templated = options;
  templated.data_dir = "{{ weir_data_dir }}";
  templated.model_dir = "{{ weir_model_dir }}";

  std::map<std::string, std::vector<std::string>> units;
  std::map<std::string, std::vector<const plan::Deployment*>> gguf;
  std::map<std::string, std::string> config_file;
  std::set<std::string> engine_hosts;
  std::set<std::string> builtin_hosts;
  // Unit files are copied, not templated, so they get the concrete paths the
  // playbook's variables default to.
  DeployOptions unit_options = options;
  unit_options.data_dir = options.prefix + "/data";
  unit_options.model_dir = options.model_dir.empty() ? options.prefix + "/models" : options.model_dir;
  const RenderedFiles systemd = RenderSystemd(plan, unit_options).value();
  for (const ModelServer& server : ModelServers(plan)) {
    const plan::Deployment& d = *server.deployment;
    if (!d.file.empty()) gguf[server.host].push_back(&d);
    if (d.engine == "builtin") {
      if (server.host == gateway_host) continue;
      builtin_hosts.insert(server.host);
      files["files/" + server.host + "/weir.yaml.j2"] = BuiltinServerConfig(plan, d, templated);
      config_file[server.host] = "weir.yaml.j2";
      continue;
    }
    engine_hosts.insert(server.host);
    const std::string unit = "weir-model-" + server.name + ".service";
    files["files/" + server.host + "/" + unit] = systemd.at(server.host + "/" + unit);
    units[server.host].push_back(unit);
  }
  files["files/" + gateway_host + "/weir.yaml.j2"] = GatewayConfig(plan, templated, "{{ weir_listen }}", gateway_host, true);
  config_file[gateway_host] = "weir.yaml.j2";

  std::set<std::string> all_hosts = engine_hosts;
  all_hosts.insert(builtin_hosts.begin(), builtin_hosts.end());
  all_hosts.insert(gateway_host);
  for (const std::string& host : all_hosts) {
    files["host_vars/" + host + ".yml"] = HostVars(units[host], gguf[host], config_file.count(host) ? config_file[host] : "");
  }
  files["inventory.ini"] = Inventory(plan, gateway_host, engine_hosts, builtin_hosts);

  std::string playbook = fmt::format("# Rendered by `weir deploy --target ansible` for {}.\n", plan.model);
  playbook += "# Run: ansible-playbook -i inventory.ini playbook.yml\n---\n";
  playbook += "- name: Set the Weir variables\n  hosts: all\n  gather_facts: false\n  tasks:\n";
  playbook += "    - name: Define the install layout\n      ansible.builtin.set_fact:\n";
  playbook += fmt::format("        weir_prefix: {}\n", YamlQuote(options.prefix));
  playbook += fmt::format("        weir_data_dir: {}\n", YamlQuote(options.prefix + "/data"));
  playbook += fmt::format("        weir_model_dir: {}\n",
                          YamlQuote(options.model_dir.empty() ? options.prefix + "/models" : options.model_dir));
  playbook += fmt::format("        weir_listen: {}\n", YamlQuote(options.listen));
  playbook += fmt::format("        weir_check_address: {}\n", YamlQuote(CheckAddress(options.listen)));
  playbook += fmt::format("        weir_binary: {}\n", YamlQuote(options.weir_binary));
  playbook += fmt::format("        weir_catalogue: {}\n", YamlQuote(options.catalogue_path));
  playbook += fmt::format("        weir_service_manager: {}\n", YamlQuote(options.service_manager));
  playbook += fmt::format("        weir_model_alias: {}\n", YamlQuote(plan.model));
  playbook += "        weir_api_key: \"{{ lookup('env', 'WEIR_API_KEY') }}\"\n";
  playbook += fmt::format("        weir_ready_retries: {}\n\n", options.ready_retries);
  if (!engine_hosts.empty()) playbook += kModelServerPlay;
  playbook += kGatewayPlay;
  files["playbook.yml"] = playbook;
  return files;
}

}  // namespace weir::deploy
