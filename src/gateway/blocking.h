// Runs blocking work (store and audit queries) on the blocking thread pool and
// resumes the calling coroutine on its own executor when the work is done, so
// io threads never wait on disk.
//
// Call it in two statements, never as `co_await RunBlocking(pool, [..] {..})`:
//   auto task = RunBlocking(pool, [..] { ... });
//   auto result = co_await std::move(task);
// GCC 12 miscompiles a lambda temporary inside a co_await expression: its
// captures are copied bitwise, so a captured std::string later frees a pointer
// into the old coroutine frame (AddressSanitizer reports the bad free).
#pragma once

#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace weir {

template <typename Function>
auto RunBlocking(boost::asio::thread_pool& pool, Function function)
    -> boost::asio::awaitable<decltype(function())> {
  using Value = decltype(function());
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(Value)>(
      [&pool](auto handler, Function work) {
        boost::asio::post(pool, [handler = std::move(handler), work = std::move(work)]() mutable {
          Value value = work();
          auto executor = boost::asio::get_associated_executor(handler);
          boost::asio::dispatch(executor, [handler = std::move(handler), value = std::move(value)]() mutable {
            handler(std::move(value));
          });
        });
      },
      boost::asio::use_awaitable, std::move(function));
}

}  // namespace weir
