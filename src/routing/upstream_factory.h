// Creates the Upstream for a configured backend by its kind.
#pragma once

#include <boost/asio/io_context.hpp>

#include "gateway/model_registry.h"

namespace weir {

// "http" upstreams become HttpUpstream; "builtin" upstreams load a GGUF model
// in Weir's own engine.
UpstreamFactory MakeUpstreamFactory(boost::asio::io_context& io);

}  // namespace weir
