// The built-in engine as an Upstream: serves OpenAI chat completions and
// completions from a GGUF model on this machine's CPUs, so routing, quotas
// and audit treat it like any HTTP upstream.
//
// Threading: Open() and Read() run on the gateway's io_context threads and do
// only parsing, tokenization and queue operations there. The forward passes
// run on the engine's own threads: one scheduler thread plus its pool.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "routing/upstream.h"

namespace weir {

struct BuiltinUpstreamOptions {
  std::string model_path;
  std::string model_name;  // The name reported in responses ("model").
  int threads = 0;         // Compute threads; 0: the CPUs available to the process.
  int context_size = 4096; // Tokens per sequence (prompt plus completion).
  int parallel = 4;        // Sequences generated at once, each with its own KV cache.
  std::string chat_template;  // Empty: recognise from the file; or chatml, deepseek-r1, llama3.
};

// Loads the model (after checking that weights plus KV caches fit in the
// available memory, with progress logged) and starts its scheduler.
Result<std::shared_ptr<Upstream>> CreateBuiltinUpstream(const BuiltinUpstreamOptions& options);

}  // namespace weir
