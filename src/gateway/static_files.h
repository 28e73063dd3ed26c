// StaticFiles: serves the built web UI (web/dist: the chat page, the admin
// console and Swagger UI under /docs/) and single files such as
// /openapi.json.
//
// Every file is read into memory by Load() at start-up, so serving never
// touches the disk on an io thread. A rebuilt UI needs a restart. Lookups are
// by exact path in that table, so a target such as "/../x" can never reach a
// file outside the root.
//
// Threading: Load() and AddFile() run before the server starts; Serve() is
// then safe from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/beast/http.hpp>

#include "common/result.h"

namespace weir {

class StaticFiles {
 public:
  // Reads every regular file below `root`; it is served at "/" + its relative path.
  // Returns an Error naming the file that cannot be read. A missing root loads nothing.
  Status Load(const std::filesystem::path& root);
  // Serves one file at `url_path` (for example "/openapi.json").
  Status AddFile(std::string url_path, const std::filesystem::path& file);

  // Returns the response to a GET or HEAD of `target` (query string allowed):
  // the file, 304 when `if_none_match` equals its ETag, or a 301 from a folder
  // name without its slash ("/docs" to "/docs/"). A folder serves its
  // index.html. nullopt when no file matches, so the caller can return 404.
  // The response is HTTP/1.1; the caller sets keep-alive to match the request.
  std::optional<boost::beast::http::response<boost::beast::http::string_body>> Serve(
      std::string_view target, bool head, std::string_view if_none_match) const;

  size_t file_count() const { return files_.size(); }
  // The URL paths of every loaded file, sorted.
  std::vector<std::string> paths() const;

 private:
  struct File {
    std::string body;
    std::string content_type;
    std::string etag;
  };

  Status Add(std::string url_path, const std::filesystem::path& file);
  const File* Find(const std::string& path) const;

  std::unordered_map<std::string, File> files_;
};

// Returns the Content-Type for a file name by its extension; application/octet-stream when unknown.
std::string_view ContentTypeForPath(std::string_view path);

}  // namespace weir
