#pragma once
// Command-line flags shared by the training examples: --device, --epochs, --batch-size,
// --limit, --test-limit, --lr, --data, --out, --seed and --help. Unknown flags and bad values print the usage
// and exit with status 2, so a typo never trains with a silent default.
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace examples {

struct Options {
  std::string device = "default";  // "cpu", "gpu" or the default device
  int epochs = 0;                  // 0: the example's default
  int batch_size = 0;              // 0: the example's default
  int limit = 0;                   // 0: every training example
  int test_limit = 0;              // 0: every test example
  float lr = 0.0f;                 // 0: the example's default
  std::string data_dir;            // empty: the dataset package's directory
  std::string out_prefix;          // the CSV and plot's path without extension
  unsigned seed = 0;
};

inline void print_usage(std::FILE* to, const char* program, const char* what, const Options& defaults) {
  std::fprintf(to,
               "%s\n\n"
               "usage: %s [flags]\n"
               "  --device cpu|gpu    where to train (default: the default device, the GPU when Vulkan finds one)\n"
               "  --epochs N          training epochs (default %d)\n"
               "  --batch-size N      examples per step (default %d)\n"
               "  --limit N           train on the first N examples only (default: all 60000)\n"
               "  --test-limit N      test on the first N examples only (default: all 10000)\n"
               "  --lr X              learning rate (default %g)\n"
               "  --data DIR          the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)\n"
               "  --out PREFIX        write PREFIX.csv and the plot PREFIX.png (default %s)\n"
               "  --seed N            random seed for initialisation and shuffling (default %u)\n"
               "  --help              this message\n",
               what, program, defaults.epochs, defaults.batch_size, static_cast<double>(defaults.lr),
               defaults.out_prefix.c_str(), defaults.seed);
}

// Parses argv over `defaults`; exits on --help (status 0) and on bad flags (status 2).
inline Options parse_options(int argc, char** argv, const char* what, Options defaults) {
  Options o = defaults;
  auto bad = [&](const std::string& message) {
    std::fprintf(stderr, "%s: %s\n\n", argv[0], message.c_str());
    print_usage(stderr, argv[0], what, defaults);
    std::exit(2);
  };
  auto positive_int = [&](std::string_view flag, const char* text) {
    char* end = nullptr;
    const long v = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || v <= 0 || v > 100000000) {
      bad(std::string(flag) + " takes a positive integer, got '" + text + "'");
    }
    return static_cast<int>(v);
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      print_usage(stdout, argv[0], what, defaults);
      std::exit(0);
    }
    if (flag.rfind("--", 0) != 0) bad("unexpected argument '" + std::string(flag) + "'");
    static constexpr std::string_view known[] = {"--device", "--epochs", "--batch-size", "--limit", "--test-limit",
                                                 "--lr",     "--data",   "--out",        "--seed"};
    if (std::find(std::begin(known), std::end(known), flag) == std::end(known)) {
      bad("unknown flag '" + std::string(flag) + "'");
    }
    if (i + 1 >= argc) bad(std::string(flag) + " needs a value");
    const char* value = argv[++i];
    if (flag == "--device") {
      o.device = value;
      if (o.device != "cpu" && o.device != "gpu") bad("--device takes cpu or gpu, got '" + o.device + "'");
    } else if (flag == "--epochs") {
      o.epochs = positive_int(flag, value);
    } else if (flag == "--batch-size") {
      o.batch_size = positive_int(flag, value);
    } else if (flag == "--limit") {
      o.limit = positive_int(flag, value);
    } else if (flag == "--test-limit") {
      o.test_limit = positive_int(flag, value);
    } else if (flag == "--lr") {
      char* end = nullptr;
      o.lr = std::strtof(value, &end);
      if (end == value || *end != '\0' || !(o.lr > 0.0f) || !(o.lr < 10.0f)) {
        bad(std::string("--lr takes a number in (0, 10), got '") + value + "'");
      }
    } else if (flag == "--data") {
      o.data_dir = value;
    } else if (flag == "--out") {
      o.out_prefix = value;
    } else if (flag == "--seed") {
      char* end = nullptr;
      const unsigned long v = std::strtoul(value, &end, 10);
      if (end == value || *end != '\0') bad(std::string("--seed takes an integer, got '") + value + "'");
      o.seed = static_cast<unsigned>(v);
    } else {
      bad("unknown flag '" + std::string(flag) + "'");
    }
  }
  return o;
}

}  // namespace examples
