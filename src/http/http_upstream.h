// HttpUpstream: an Upstream reached over HTTP/1.1 (vLLM, SGLang, llama.cpp
// server, Ollama, any OpenAI-compatible API, or `weir sim`).
//
// Connections are kept alive and reused from a small pool per upstream. A
// request on a pooled connection that turns out to be closed is sent once more
// on a fresh connection before it counts as a failure.
//
// Threading: Open() may be called from any io thread concurrently; the pool
// is guarded by a mutex.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "common/result.h"
#include "routing/upstream.h"

namespace weir {

struct ParsedUrl {
  std::string host;
  std::string port;
  std::string path_prefix;  // Without a trailing '/', e.g. "/v1".
};

// Parses "http://host[:port][/prefix]". https is not supported yet.
Result<ParsedUrl> ParseHttpUrl(const std::string& url);

// Creates an HTTP upstream. `api_key`, when set, is sent as a bearer token.
Result<std::shared_ptr<Upstream>> MakeHttpUpstream(boost::asio::io_context& io, const std::string& url,
                                                   const std::string& api_key);

}  // namespace weir
