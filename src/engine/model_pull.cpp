#include "engine/model_pull.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include "engine/gguf.h"

namespace weir::engine {
namespace {

namespace fs = std::filesystem;

bool IsUrl(const std::string& source) {
  return source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0;
}

// File name of the source: the last path segment, without a query string.
std::string FileNameOf(const std::string& source) {
  std::string path = source;
  if (IsUrl(source)) {
    const size_t query = path.find_first_of("?#");
    if (query != std::string::npos) path.resize(query);
  }
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Writes to the temporary file and hashes what it writes.
struct Sink {
  std::ofstream out;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> hash{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
  uint64_t bytes = 0;
  uint64_t total = 0;
  const std::function<void(uint64_t, uint64_t)>* progress = nullptr;

  bool Write(const char* data, size_t size) {
    out.write(data, static_cast<std::streamsize>(size));
    EVP_DigestUpdate(hash.get(), data, size);
    bytes += size;
    if (progress && *progress) (*progress)(bytes, total);
    return static_cast<bool>(out);
  }

  std::string HexDigest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(hash.get(), digest, &length);
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
    return hex;
  }
};

size_t CurlWrite(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  return sink->Write(data, size * count) ? size * count : 0;
}

int CurlProgress(void* user, curl_off_t total, curl_off_t, curl_off_t, curl_off_t) {
  static_cast<Sink*>(user)->total = static_cast<uint64_t>(total);
  return 0;
}

Status Download(const std::string& url, Sink* sink) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return Error::Internal("curl_easy_init failed");
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, CurlWrite);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, sink);
  curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, CurlProgress);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, sink);
  const CURLcode code = curl_easy_perform(curl.get());
  if (code != CURLE_OK) {
    return Error::Upstream(502, fmt::format("download of {} failed: {}; check the URL and the "
                                            "network", url, error[0] ? error : curl_easy_strerror(code)));
  }
  return Status::Ok();
}

Status Copy(const std::string& path, Sink* sink) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::NotFound(fmt::format("model file {} cannot be read; check the path", path));
  std::error_code size_error;
  sink->total = fs::file_size(path, size_error);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto count = static_cast<size_t>(in.gcount());
    if (count > 0 && !sink->Write(buffer.data(), count)) {
      return Error::Internal(fmt::format("writing the copy of {} failed (disk full?)", path));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<PullResult> PullModel(const PullOptions& options) {
  const std::string name = FileNameOf(options.source);
  if (name.empty() || name == "." || name == "..") {
    return Error::InvalidRequest(fmt::format("cannot derive a file name from {}; give a path or "
                                             "URL that ends in the file name", options.source));
  }
  std::error_code error;
  fs::create_directories(options.model_dir, error);
  if (error) {
    return Error::Internal(fmt::format("cannot create model directory {}: {}", options.model_dir,
                                       error.message()));
  }
  const fs::path target = fs::path(options.model_dir) / name;
  const fs::path partial = fs::path(options.model_dir) / (name + ".partial");

  Sink sink;
  sink.progress = &options.progress;
  EVP_DigestInit_ex(sink.hash.get(), EVP_sha256(), nullptr);
  sink.out.open(partial, std::ios::binary | std::ios::trunc);
  if (!sink.out) return Error::Internal(fmt::format("cannot write {}", partial.string()));
  Status status = IsUrl(options.source) ? Download(options.source, &sink) : Copy(options.source, &sink);
  sink.out.close();
  auto discard = [&](Error e) -> Result<PullResult> {
    fs::remove(partial, error);
    return e;
  };
  if (!status.ok()) return discard(status.error());

  PullResult result;
  result.sha256 = sink.HexDigest();
  result.bytes = sink.bytes;
  if (!options.expected_sha256.empty() && options.expected_sha256 != result.sha256) {
    return discard(Error::InvalidRequest(
        fmt::format("SHA-256 of {} is {}, expected {}; the file is damaged or not the one "
                    "intended, so it was not kept", options.source, result.sha256,
                    options.expected_sha256), "sha256", "checksum_mismatch"));
  }
  auto file = GgufFile::Open(partial.string());
  if (!file.ok()) return discard(file.error());
  file->reset();
  fs::rename(partial, target, error);
  if (error) return discard(Error::Internal(fmt::format("cannot rename {} to {}: {}", partial.string(),
                                                        target.string(), error.message())));
  result.path = target.string();
  return result;
}

}  // namespace weir::engine
