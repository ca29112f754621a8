#pragma once
// A training progress bar: on a terminal it is one line redrawn in place (carriage return and
// erase-to-end-of-line); when stdout is a file or a pipe it prints a plain line at each quarter
// of the epoch instead, so CI logs stay short and readable.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

namespace examples {

class ProgressBar {
 public:
  ProgressBar(int epoch, int epochs, long total) : epoch_(epoch), epochs_(epochs), total_(total) {
    tty_ = ::isatty(::fileno(stdout)) == 1;
    start_ = std::chrono::steady_clock::now();
  }

  // `done` examples seen so far this epoch; loss and accuracy are the running means.
  void update(long done, double loss, double accuracy) {
    const double secs = elapsed();
    const double rate = secs > 0 ? done / secs : 0.0;
    const double frac = total_ > 0 ? static_cast<double>(done) / total_ : 1.0;
    if (tty_) {
      constexpr int width = 30;
      const int filled = std::clamp(static_cast<int>(frac * width), 0, width);
      std::string bar(filled, '=');
      if (filled < width) bar += '>' + std::string(width - filled - 1, ' ');
      std::printf("\repoch %d/%d [%s] %3.0f%%  loss %.4f  acc %5.1f%%  %7.0f samples/s\033[K", epoch_, epochs_,
                  bar.c_str(), 100 * frac, loss, 100 * accuracy, rate);
      std::fflush(stdout);
    } else {
      const int quarter = static_cast<int>(frac * 4);
      if (quarter > last_quarter_) {
        last_quarter_ = quarter;
        std::printf("epoch %d/%d %3.0f%%  loss %.4f  acc %5.1f%%  %7.0f samples/s\n", epoch_, epochs_, 100 * frac,
                    loss, 100 * accuracy, rate);
        std::fflush(stdout);
      }
    }
  }

  // Ends the bar's line (terminal only).
  void finish() {
    if (tty_) std::printf("\n");
  }

  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  int epoch_, epochs_;
  long total_;
  bool tty_ = false;
  int last_quarter_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace examples
