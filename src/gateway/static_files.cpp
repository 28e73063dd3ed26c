#include "gateway/static_files.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <system_error>

#include <fmt/format.h>
#include <openssl/sha.h>

namespace weir {
namespace {

namespace http = boost::beast::http;

std::string ShortHash(const std::string& body) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex = "\"";
  for (int i = 0; i < 8; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex + "\"";
}

std::string_view PathOf(std::string_view target) {
  size_t end = target.find_first_of("?#");
  return end == std::string_view::npos ? target : target.substr(0, end);
}

}  // namespace

std::string_view ContentTypeForPath(std::string_view path) {
  static const std::unordered_map<std::string_view, std::string_view> kTypes = {
      {".html", "text/html; charset=utf-8"},   {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},           {".map", "application/json"},
      {".png", "image/png"},                   {".svg", "image/svg+xml"},
      {".ico", "image/x-icon"},                {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
  };
  size_t dot = path.rfind('.');
  if (dot == std::string_view::npos || path.find('/', dot) != std::string_view::npos) {
    return "application/octet-stream";
  }
  auto found = kTypes.find(path.substr(dot));
  return found == kTypes.end() ? "application/octet-stream" : found->second;
}

Status StaticFiles::Load(const std::filesystem::path& root) {
  std::error_code error;
  if (!std::filesystem::is_directory(root, error)) return Status::Ok();

  for (auto it = std::filesystem::recursive_directory_iterator(root, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (!it->is_regular_file()) continue;
    std::string relative = std::filesystem::relative(it->path(), root).generic_string();
    Status added = Add("/" + relative, it->path());
    if (!added.ok()) return added;
  }
  if (error) {
    return Error::Internal(fmt::format("cannot list web files in {}: {}", root.string(), error.message()));
  }
  return Status::Ok();
}

Status StaticFiles::AddFile(std::string url_path, const std::filesystem::path& file) {
  return Add(std::move(url_path), file);
}

Status StaticFiles::Add(std::string url_path, const std::filesystem::path& file) {
  std::ifstream input(file, std::ios::binary);
  if (!input) {
    return Error::Internal(fmt::format("cannot read web file {}: check that it exists and is readable",
                                       file.string()));
  }
  File entry;
  entry.body.assign(std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>());
  entry.content_type = std::string(ContentTypeForPath(url_path));
  entry.etag = ShortHash(entry.body);
  files_[std::move(url_path)] = std::move(entry);
  return Status::Ok();
}

std::vector<std::string> StaticFiles::paths() const {
  std::vector<std::string> result;
  result.reserve(files_.size());
  for (const auto& [path, file] : files_) result.push_back(path);
  std::sort(result.begin(), result.end());
  return result;
}

const StaticFiles::File* StaticFiles::Find(const std::string& path) const {
  auto found = files_.find(path);
  return found == files_.end() ? nullptr : &found->second;
}

std::optional<http::response<http::string_body>> StaticFiles::Serve(std::string_view target, bool head,
                                                                    std::string_view if_none_match) const {
  std::string path(PathOf(target));
  if (path.empty() || path.front() != '/') return std::nullopt;

  if (path.back() != '/' && Find(path) == nullptr && Find(path + "/index.html") != nullptr) {
    http::response<http::string_body> redirect{http::status::moved_permanently, 11};
    redirect.set(http::field::location, path + "/");
    redirect.prepare_payload();
    return redirect;
  }
  if (path.back() == '/') path += "index.html";

  const File* file = Find(path);
  if (file == nullptr) return std::nullopt;

  http::response<http::string_body> response{http::status::ok, 11};
  response.set(http::field::etag, file->etag);
  // Files keep their names across builds, so the browser revalidates each time (a 304 when unchanged).
  response.set(http::field::cache_control, "no-cache");
  response.set("X-Content-Type-Options", "nosniff");
  if (if_none_match == file->etag) {
    response.result(http::status::not_modified);
    return response;
  }
  response.set(http::field::content_type, file->content_type);
  if (head) {
    response.content_length(file->body.size());
  } else {
    response.body() = file->body;
    response.prepare_payload();
  }
  return response;
}

}  // namespace weir
