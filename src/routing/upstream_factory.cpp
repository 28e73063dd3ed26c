#include "routing/upstream_factory.h"

#include <fmt/format.h>

#include "engine/builtin_upstream.h"
#include "http/http_upstream.h"

namespace weir {

UpstreamFactory MakeUpstreamFactory(boost::asio::io_context& io) {
  return [&io](const UpstreamConfig& config) -> Result<std::shared_ptr<Upstream>> {
    if (config.kind == "http") return MakeHttpUpstream(io, config.url, config.api_key);
    if (config.kind == "builtin") {
      BuiltinUpstreamOptions options;
      options.model_path = config.model_path;
      options.model_name = config.version;  // Defaults to the model's name.
      options.threads = config.threads;
      options.context_size = config.context_size;
      options.parallel = config.parallel;
      options.chat_template = config.chat_template;
      return CreateBuiltinUpstream(options);
    }
    return Error::InvalidRequest(
        fmt::format("upstream kind \"{}\" ({}) is unknown; use \"http\" or \"builtin\"", config.kind, config.url));
  };
}

}  // namespace weir
