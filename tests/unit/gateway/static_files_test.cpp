#include "gateway/static_files.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace weir {
namespace {

namespace http = boost::beast::http;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("weir-static-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(root_ / "docs");
    Write(root_ / "index.html", "<html>chat</html>");
    Write(root_ / "app.js", "console.log(1)");
    Write(root_ / "docs" / "index.html", "<html>swagger</html>");
    Write(root_.parent_path() / (root_.filename().string() + "-secret.txt"), "secret");
  }
  void TearDown() override {
    std::filesystem::remove_all(root_);
    std::filesystem::remove(root_.parent_path() / (root_.filename().string() + "-secret.txt"));
  }
  static void Write(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }

  std::filesystem::path root_;
};

TEST_F(StaticFilesTest, RootServesIndexHtml) {
  StaticFiles files;
  ASSERT_TRUE(files.Load(root_).ok());
  EXPECT_EQ(files.file_count(), 3u);
  EXPECT_EQ(files.paths(), (std::vector<std::string>{"/app.js", "/docs/index.html", "/index.html"}));
  auto response = files.Serve("/", false, "");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result(), http::status::ok);
  EXPECT_EQ(response->body(), "<html>chat</html>");
  EXPECT_EQ((*response)[http::field::content_type], "text/html; charset=utf-8");
}

TEST_F(StaticFilesTest, QueryStringIsIgnored) {
  StaticFiles files;
  ASSERT_TRUE(files.Load(root_).ok());
  auto response = files.Serve("/app.js?v=2", false, "");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body(), "console.log(1)");
  EXPECT_EQ((*response)[http::field::content_type], "text/javascript; charset=utf-8");
}

TEST_F(StaticFilesTest, FolderWithoutSlashRedirects) {
  StaticFiles files;
  ASSERT_TRUE(files.Load(root_).ok());
  auto redirect = files.Serve("/docs", false, "");
  ASSERT_TRUE(redirect.has_value());
  EXPECT_EQ(redirect->result(), http::status::moved_permanently);
  EXPECT_EQ((*redirect)[http::field::location], "/docs/");
  auto page = files.Serve("/docs/", false, "");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->body(), "<html>swagger</html>");
}

TEST_F(StaticFilesTest, MatchingEtagReturnsNotModified) {
  StaticFiles files;
  ASSERT_TRUE(files.Load(root_).ok());
  auto first = files.Serve("/app.js", false, "");
  ASSERT_TRUE(first.has_value());
  std::string etag((*first)[http::field::etag]);
  ASSERT_FALSE(etag.empty());
  auto second = files.Serve("/app.js", false, etag);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->result(), http::status::not_modified);
  EXPECT_TRUE(second->body().empty());
}

TEST_F(StaticFilesTest, HeadSendsLengthWithoutBody) {
  StaticFiles files;
  ASSERT_TRUE(files.Load(root_).ok());
  auto response = files.Serve("/app.js", true, "");
  ASSERT_TRUE(response.has_value());
  EXPECT_TRUE(response->body().empty());
  EXPECT_EQ((*response)[http::field::content_length], "14");
}

TEST_F(StaticFilesTest, UnknownAndEscapingPathsAreNotFound) {
  StaticFiles files;
  ASSERT_TRUE(files.Load(root_).ok());
  EXPECT_FALSE(files.Serve("/missing.js", false, "").has_value());
  EXPECT_FALSE(files.Serve("/../" + root_.filename().string() + "-secret.txt", false, "").has_value());
  EXPECT_FALSE(files.Serve("/docs/../../secret.txt", false, "").has_value());
  EXPECT_FALSE(files.Serve("app.js", false, "").has_value());
}

TEST_F(StaticFilesTest, AddFileServesSingleFile) {
  StaticFiles files;
  ASSERT_TRUE(files.AddFile("/openapi.json", root_ / "app.js").ok());
  auto response = files.Serve("/openapi.json", false, "");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ((*response)[http::field::content_type], "application/json");
  EXPECT_FALSE(files.AddFile("/x.json", root_ / "does-not-exist.json").ok());
}

TEST_F(StaticFilesTest, MissingRootLoadsNothing) {
  StaticFiles files;
  EXPECT_TRUE(files.Load(root_ / "no-such-folder").ok());
  EXPECT_EQ(files.file_count(), 0u);
  EXPECT_FALSE(files.Serve("/", false, "").has_value());
}

TEST(ContentTypeTest, UnknownExtensionIsOctetStream) {
  EXPECT_EQ(ContentTypeForPath("/a/b.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeForPath("/a.b/c"), "application/octet-stream");
  EXPECT_EQ(ContentTypeForPath("/file.unknown"), "application/octet-stream");
}

}  // namespace
}  // namespace weir
