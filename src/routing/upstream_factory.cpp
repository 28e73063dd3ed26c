#include "routing/upstream_factory.h"

#include <fmt/format.h>

#include "http/http_upstream.h"

namespace weir {

UpstreamFactory MakeUpstreamFactory(boost::asio::io_context& io) {
  return [&io](const UpstreamConfig& config) -> Result<std::shared_ptr<Upstream>> {
    if (config.kind == "http") return MakeHttpUpstream(io, config.url, config.api_key);
    return Error::InvalidRequest(fmt::format(
        "upstream kind \"{}\" ({}) is not available in this build; use kind \"http\"", config.kind, config.url));
  };
}

}  // namespace weir
