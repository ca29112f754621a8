// Tests of tessera::random: MLX's key/bits/split/uniform/normal, the bit stream checked against
// MLX's own published test values (MLX tests/random_tests.cpp, which were generated from JAX's
// Threefry-2x32) and against an independent Python model (fixtures/gen_random.py).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fixtures/random_expected.inc"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/random.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/primitives/random.hpp"

using namespace tessera;

namespace {

template <typename T>
std::vector<T> values(array a) {
  return a.to_vector<T>();
}

struct Moments {
  double mean, var, min, max;
};
template <typename T>
Moments moments(array a) {
  auto v = a.to_vector<T>();
  double s = 0, s2 = 0, lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (auto x : v) {
    double d = static_cast<double>(x);
    s += d;
    s2 += d * d;
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  double n = static_cast<double>(v.size());
  return {s / n, s2 / n - (s / n) * (s / n), lo, hi};
}

// Runs `f`, expecting std::invalid_argument whose message contains every one of `parts`.
template <typename F>
void expect_invalid(F&& f, std::vector<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    for (auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected std::invalid_argument, got another exception: " << e.what();
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Keys

TEST(RandomKey, MatchesMlx) {
  // MLX tests/random_tests.cpp "test random key".
  auto k = random::key(0);
  EXPECT_EQ(k.dtype(), uint32);
  EXPECT_EQ(k.shape(), Shape({2}));
  EXPECT_EQ(values<uint32_t>(k), std::vector<uint32_t>({0, 0}));
  EXPECT_EQ(values<uint32_t>(random::key(1)), std::vector<uint32_t>({0, 1}));
  const uint64_t seed = uint64_t{1} << 32;
  EXPECT_EQ(values<uint32_t>(random::key(seed)), std::vector<uint32_t>({1, 0}));
  EXPECT_EQ(values<uint32_t>(random::key(seed + 1)), std::vector<uint32_t>({1, 1}));
  EXPECT_EQ(values<uint32_t>(random::key(42)), random_expected::key_42);
  EXPECT_EQ(values<uint32_t>(random::key((uint64_t{1} << 32) + 7)), random_expected::key_4294967303);
}

TEST(RandomKey, ThreefryPublishedVector) {
  // Known-answer test of Random123 (kat_vectors, threefry2x32_20, all-zero key and counter).
  auto [x, y] = threefry::hash(0, 0, 0, 0);
  EXPECT_EQ(x, 0x6b200159u);
  EXPECT_EQ(y, 0x99ba4efeu);
  // And 1797259609 == 0x6b200159 is MLX's bits({}, key(0)).
  EXPECT_EQ(x, 1797259609u);
}

// ---------------------------------------------------------------------------------------------
// Bits: MLX's own expected values (tests/random_tests.cpp "test random bits")

TEST(RandomBits, MlxPublishedScalars) {
  auto key = random::key(0);
  auto x = random::bits({}, key);
  EXPECT_EQ(x.size(), 1u);
  EXPECT_EQ(x.dtype(), uint32);
  EXPECT_EQ(x.item<uint32_t>(), 1797259609u);
  EXPECT_EQ(random::bits({}, key).item<uint32_t>(), 1797259609u);
  x = random::bits({}, 2, key);
  EXPECT_EQ(x.dtype(), uint16);
  EXPECT_EQ(x.item<uint16_t>(), 345);
  x = random::bits({}, 1, key);
  EXPECT_EQ(x.dtype(), uint8);
  EXPECT_EQ(x.item<uint8_t>(), 89);

  key = random::key(1);
  EXPECT_EQ(random::bits({}, key).item<uint32_t>(), 507451445u);
  EXPECT_EQ(random::bits({}, 2, key).item<uint16_t>(), 6197);
  EXPECT_EQ(random::bits({}, 1, key).item<uint8_t>(), 53);
}

TEST(RandomBits, MlxPublishedArrays) {
  auto key = random::key(0);
  auto x = random::bits({3, 1}, key);
  EXPECT_EQ(x.shape(), Shape({3, 1}));
  EXPECT_EQ(values<uint32_t>(x), std::vector<uint32_t>({4146024105u, 1351547692u, 2718843009u}));

  EXPECT_EQ(values<uint16_t>(random::bits({5}, 2, key)),
            std::vector<uint16_t>({20137, 63263, 64300, 20622, 16513}));
  EXPECT_EQ(values<uint16_t>(random::bits({6}, 2, key)),
            std::vector<uint16_t>({20137, 63263, 64300, 20622, 16513, 41486}));
  EXPECT_EQ(values<uint16_t>(random::bits({7}, 2, key)),
            std::vector<uint16_t>({20137, 63263, 1497, 14756, 16513, 41486, 44591}));
  EXPECT_EQ(values<uint16_t>(random::bits({8}, 2, key)),
            std::vector<uint16_t>({20137, 63263, 1497, 14756, 16513, 41486, 44591, 19423}));
}

TEST(RandomBits, MlxPublishedBatchedKeys) {
  // MLX computes these with vmap over the keys; Tessera's bits takes the batch directly.
  auto keys = array({0u, 0u, 1u, 1u}, {2, 2});
  auto x = random::bits({3}, keys);
  EXPECT_EQ(x.shape(), Shape({2, 3}));
  EXPECT_EQ(values<uint32_t>(x), std::vector<uint32_t>({4146024105u, 1351547692u, 2718843009u,
                                                        3725146706u, 1802982961u, 1349634643u}));
  // vmap(fn, 1): the keys are the columns -- a strided (transposed) key array.
  x = random::bits({3}, transpose(keys));
  EXPECT_EQ(values<uint32_t>(x), std::vector<uint32_t>({2441914641u, 1110694964u, 3819641963u,
                                                        2441914641u, 1110694964u, 3819641963u}));

  auto keys3 = array({0u, 0u, 1u, 1u, 2u, 2u, 3u, 3u, 4u, 4u, 5u, 5u}, {3, 2, 2});
  x = random::bits({2}, keys3);  // vmap(vmap(fn))
  EXPECT_EQ(x.shape(), Shape({3, 2, 2}));
  EXPECT_EQ(values<uint32_t>(x),
            std::vector<uint32_t>({928981903u, 3453687069u, 3606183818u, 460005496u, 2799733733u,
                                   856293553u, 4081856343u, 3445925136u, 2775548010u, 1430281703u,
                                   305173070u, 2615843348u}));
  x = random::bits({2}, swapaxes(keys3, 1, 2));  // vmap(vmap(fn, 1), 0)
  EXPECT_EQ(values<uint32_t>(x),
            std::vector<uint32_t>({1948878966u, 4237131848u, 1948878966u, 4237131848u, 2531170506u,
                                   1858648356u, 2531170506u, 1858648356u, 740561898u, 4234094099u,
                                   740561898u, 4234094099u}));

  // Smaller width with batched keys: each key's block equals that key's own bits.
  auto y = random::bits({5}, 2, keys);
  EXPECT_EQ(y.shape(), Shape({2, 5}));
  auto y0 = values<uint16_t>(random::bits({5}, 2, array({0u, 0u})));
  auto y1 = values<uint16_t>(random::bits({5}, 2, array({1u, 1u})));
  auto yv = values<uint16_t>(y);
  EXPECT_EQ(std::vector<uint16_t>(yv.begin(), yv.begin() + 5), y0);
  EXPECT_EQ(std::vector<uint16_t>(yv.begin() + 5, yv.end()), y1);
}

// ---------------------------------------------------------------------------------------------
// Bits: the independent Python model (odd sizes, tails, widths, long outputs)

TEST(RandomBits, ReferenceModel) {
  using namespace random_expected;
  EXPECT_EQ(values<uint32_t>(random::bits({5}, random::key(0))), bits_k0_5_w4);
  auto k42 = random::key(42);
  EXPECT_EQ(values<uint32_t>(random::bits({4, 3}, 4, k42)), bits_k42_4x3_w4);
  EXPECT_EQ(values<uint16_t>(random::bits({4, 3}, 2, k42)), bits_k42_4x3_w2);
  EXPECT_EQ(values<uint8_t>(random::bits({4, 3}, 1, k42)), bits_k42_4x3_w1);
  EXPECT_EQ(values<uint8_t>(random::bits({1}, 1, k42)), bits_k42_1_w1);
  EXPECT_EQ(values<uint8_t>(random::bits({2}, 1, k42)), bits_k42_2_w1);
  EXPECT_EQ(values<uint8_t>(random::bits({3}, 1, k42)), bits_k42_3_w1);
  EXPECT_EQ(values<uint8_t>(random::bits({5}, 1, k42)), bits_k42_5_w1);
  EXPECT_EQ(values<uint8_t>(random::bits({9}, 1, k42)), bits_k42_9_w1);
  EXPECT_EQ(values<uint8_t>(random::bits({13}, 1, k42)), bits_k42_13_w1);
  EXPECT_EQ(values<uint16_t>(random::bits({1}, 2, k42)), bits_k42_1_w2);
  EXPECT_EQ(values<uint16_t>(random::bits({3}, 2, k42)), bits_k42_3_w2);
  EXPECT_EQ(values<uint16_t>(random::bits({7}, 2, k42)), bits_k42_7_w2);
  EXPECT_EQ(values<uint16_t>(random::bits({11}, 2, k42)), bits_k42_11_w2);

  auto k7 = random::key(7);
  auto v = values<uint32_t>(random::bits({1000}, k7));
  EXPECT_EQ(std::vector<uint32_t>(v.begin(), v.begin() + 8), bits_k7_1000_w4_head);
  EXPECT_EQ(std::vector<uint32_t>(v.end() - 8, v.end()), bits_k7_1000_w4_tail);
  auto w = values<uint32_t>(random::bits({1001}, k7));
  EXPECT_EQ(std::vector<uint32_t>(w.begin() + 498, w.begin() + 503), bits_k7_1001_w4_mid);

  auto batch = array(batch_keys.begin(), Shape{3, 2}, uint32);
  EXPECT_EQ(values<uint16_t>(random::bits({5}, 2, batch)), bits_batch_5_w2);
}

TEST(RandomBits, LargeOutputIsParallelSafe) {
  // A long single-key output (split across threads) equals the concatenation the serial
  // layout gives: compare against the host-side block fill.
  const int n = 1 << 18;
  auto x = values<uint32_t>(random::bits({n}, random::key(3)));
  std::vector<uint32_t> ref(n);
  threefry::fill_block(0, 3, sizeof(uint32_t) * n, reinterpret_cast<unsigned char*>(ref.data()));
  EXPECT_EQ(x, ref);
  // Many keys at once.
  auto keys = random::split(random::key(5), 3000);
  auto y = values<uint8_t>(random::bits({7}, 1, keys));
  auto kv = values<uint32_t>(keys);
  for (int i = 0; i < 3000; i += 499) {
    std::vector<uint8_t> one(7);
    threefry::fill_block(kv[2 * i], kv[2 * i + 1], 7, one.data());
    EXPECT_EQ(std::vector<uint8_t>(y.begin() + 7 * i, y.begin() + 7 * i + 7), one) << i;
  }
}

TEST(RandomBits, ShapesAndDeterminism) {
  auto key = random::key(0);
  auto e = random::bits({0}, key);
  EXPECT_EQ(e.size(), 0u);
  EXPECT_EQ(e.shape(), Shape({0}));
  e.eval();
  EXPECT_EQ(random::bits({2, 0, 3}, 2, key).shape(), Shape({2, 0, 3}));
  EXPECT_EQ(random::bits({4}, array(std::vector<uint32_t>{}, Shape{0, 2})).shape(), Shape({0, 4}));

  // Same key -> same bits; different keys -> different bits.
  auto a = values<uint32_t>(random::bits({64}, random::key(11)));
  auto b = values<uint32_t>(random::bits({64}, random::key(11)));
  auto c = values<uint32_t>(random::bits({64}, random::key(12)));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  int same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == c[i];
  EXPECT_LT(same, 3);

  // The primitive and its equivalence (compile's CSE).
  auto x = random::bits({3}, key);
  ASSERT_TRUE(x.has_primitive());
  EXPECT_STREQ(x.primitive().name(), "RandomBits");
  auto y = random::bits({3}, key);
  auto z = random::bits({3}, 2, key);
  EXPECT_TRUE(x.primitive().is_equivalent(y.primitive()));
  EXPECT_FALSE(x.primitive().is_equivalent(z.primitive()));
}

TEST(RandomBits, BadInput) {
  auto key = random::key(1);
  for (int w : {0, 3, 5, -1, 8}) {
    expect_invalid([&] { random::bits({}, w, key); }, {"[random.bits]", std::to_string(w)});
  }
  expect_invalid([&] { random::bits({2, -1}, key); }, {"[random.bits]", "(2,-1)"});
  // MLX's bad keys: int32 (2,), int32 (1,2), uint32 (3,1), uint32 (2,1).
  expect_invalid([&] { random::bits({}, array({0, 0})); }, {"[random.bits]", "int32", "(2,)"});
  expect_invalid([&] { random::bits({}, array({0, 0}, {1, 2})); }, {"[random.bits]", "int32"});
  expect_invalid([&] { random::bits({}, array({0u, 0u, 0u}, {3, 1})); },
                 {"[random.bits]", "uint32", "(3,1)"});
  expect_invalid([&] { random::bits({}, array({0u, 0u}, {2, 1})); }, {"[random.bits]", "(2,1)"});
  expect_invalid([&] { random::bits({}, array(0u)); }, {"[random.bits]", "()"});
}

// ---------------------------------------------------------------------------------------------
// Split

TEST(RandomSplit, MatchesMlx) {
  // MLX tests/random_tests.cpp "test random split".
  auto [key, subkey] = random::split(random::key(0));
  EXPECT_EQ(key.shape(), Shape({2}));
  EXPECT_EQ(key.dtype(), uint32);
  EXPECT_EQ(values<uint32_t>(key), std::vector<uint32_t>({4146024105u, 967050713u}));
  EXPECT_EQ(values<uint32_t>(subkey), std::vector<uint32_t>({2718843009u, 1272950319u}));

  auto keys = random::split(random::key(0), 3);
  EXPECT_EQ(keys.shape(), Shape({3, 2}));
  EXPECT_EQ(values<uint32_t>(keys), std::vector<uint32_t>({2467461003u, 428148500u, 3186719485u,
                                                           3840466878u, 2562233961u, 1946702221u}));
  EXPECT_EQ(values<uint32_t>(keys), random_expected::split_k0_3);

  // test_key_split (python): deterministic, distinct halves, shape (10, 2).
  auto [r1, r2] = random::split(random::key(0));
  EXPECT_EQ(values<uint32_t>(r1), values<uint32_t>(key));
  EXPECT_EQ(values<uint32_t>(r2), values<uint32_t>(subkey));
  EXPECT_NE(values<uint32_t>(r1), values<uint32_t>(r2));
  EXPECT_EQ(random::split(random::key(0), 10).shape(), Shape({10, 2}));
  EXPECT_EQ(random::split(random::key(0), 0).shape(), Shape({0, 2}));

  // Batched: each key splits independently.
  auto batch = array({0u, 0u, 0u, 1u}, {2, 2});
  auto [b0, b1] = random::split(batch);
  EXPECT_EQ(b0.shape(), Shape({2, 2}));
  auto [k1a, k1b] = random::split(random::key(1));
  auto b0v = values<uint32_t>(b0), b1v = values<uint32_t>(b1);
  EXPECT_EQ(std::vector<uint32_t>(b0v.begin(), b0v.begin() + 2), values<uint32_t>(key));
  EXPECT_EQ(std::vector<uint32_t>(b0v.begin() + 2, b0v.end()), values<uint32_t>(k1a));
  EXPECT_EQ(std::vector<uint32_t>(b1v.begin() + 2, b1v.end()), values<uint32_t>(k1b));
}

TEST(RandomSplit, BadInput) {
  expect_invalid([] { random::split(array({0, 0})); }, {"[random.split]", "int32"});
  expect_invalid([] { random::split(random::key(0), -2); }, {"[random.split]", "-2"});
  expect_invalid([] { random::split(array({1u, 2u, 3u})); }, {"[random.split]", "(3,)"});
}

// ---------------------------------------------------------------------------------------------
// The global key sequence

TEST(RandomSeed, GlobalSequenceIsReproducible) {
  // MLX "test global rng".
  random::seed(4);
  auto x = random::bits({});
  auto y = random::bits({});
  random::seed(4);
  auto a = random::bits({});
  auto b = random::bits({});
  EXPECT_EQ(x.item<uint32_t>(), a.item<uint32_t>());
  EXPECT_EQ(y.item<uint32_t>(), b.item<uint32_t>());
  EXPECT_NE(x.item<uint32_t>(), y.item<uint32_t>());

  // The exact sequence: next() = split(key) -> (new key, returned key), as MLX.
  random::seed(7);
  std::vector<uint32_t> seq;
  for (int i = 0; i < 3; ++i) {
    auto v = values<uint32_t>(random::bits({4}));
    seq.insert(seq.end(), v.begin(), v.end());
  }
  EXPECT_EQ(seq, random_expected::seed7_three_bits4);

  // Python test_global_rng: uniform draws reproduce after reseeding.
  random::seed(3);
  float u1 = random::uniform({}).item<float>(), u2 = random::uniform({}).item<float>();
  random::seed(3);
  EXPECT_EQ(random::uniform({}).item<float>(), u1);
  EXPECT_EQ(random::uniform({}).item<float>(), u2);

  // A private KeySequence is independent of the global one.
  random::KeySequence ks(7);
  auto k = ks.next();
  EXPECT_EQ(values<uint32_t>(random::bits({4}, k)),
            std::vector<uint32_t>(random_expected::seed7_three_bits4.begin(),
                                  random_expected::seed7_three_bits4.begin() + 4));
}

TEST(RandomSeed, ThreadSafe) {
  random::seed(99);
  constexpr int kThreads = 8, kPer = 200;
  std::vector<std::vector<uint32_t>> got(kThreads);
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        auto k = random::KeySequence::default_().next();
        auto v = k.to_vector<uint32_t>();
        got[t].push_back(v[0]);
        got[t].push_back(v[1]);
      }
    });
  }
  for (auto& t : ts) t.join();
  // Every key drawn exactly once: the same multiset as a serial run.
  std::multiset<uint64_t> par, ser;
  for (auto& g : got) {
    for (size_t i = 0; i < g.size(); i += 2) par.insert((uint64_t{g[i]} << 32) | g[i + 1]);
  }
  random::KeySequence serial(99);
  for (int i = 0; i < kThreads * kPer; ++i) {
    auto v = serial.next().to_vector<uint32_t>();
    ser.insert((uint64_t{v[0]} << 32) | v[1]);
  }
  EXPECT_EQ(par, ser);
  EXPECT_EQ(std::set<uint64_t>(par.begin(), par.end()).size(), par.size());
}

// ---------------------------------------------------------------------------------------------
// Uniform

TEST(RandomUniform, MatchesMlxValues) {
  // MLX "test random uniform": u = float(bits) / UINT32_MAX.
  auto to_float = [](uint32_t n) { return static_cast<float>(n) / UINT32_MAX; };
  auto key = random::key(0);
  auto x = random::uniform({}, key);
  EXPECT_EQ(x.dtype(), float32);
  EXPECT_EQ(x.shape(), Shape({}));
  EXPECT_EQ(x.item<float>(), to_float(1797259609u));
  EXPECT_EQ(random::uniform({}, key).item<float>(), x.item<float>());
  EXPECT_EQ(random::uniform({}, random::key(1)).item<float>(), to_float(507451445u));
  EXPECT_EQ(values<float>(random::uniform({3, 1}, key)),
            std::vector<float>({to_float(4146024105u), to_float(1351547692u),
                                to_float(2718843009u)}));
  EXPECT_EQ(values<float>(random::uniform({8}, random::key(1))), random_expected::uniform_k1_8);
}

TEST(RandomUniform, RangeAndMoments) {
  const int n = 100000;
  auto key = random::key(2024);
  auto u = random::uniform({n}, key);
  auto m = moments<float>(u);
  EXPECT_GE(m.min, 0.0);
  EXPECT_LT(m.max, 1.0);
  EXPECT_NEAR(m.mean, 0.5, 0.005);          // sd of the mean ~ 0.0009
  EXPECT_NEAR(m.var, 1.0 / 12.0, 0.002);    // sd ~ 0.0003

  auto v = random::uniform(-3.0f, 5.0f, {n}, float32, key);
  auto mv = moments<float>(v);
  EXPECT_GE(mv.min, -3.0);
  EXPECT_LT(mv.max, 5.0);
  EXPECT_NEAR(mv.mean, 1.0, 0.04);
  EXPECT_NEAR(mv.var, 64.0 / 12.0, 0.15);
  // Same bits, affinely mapped (range * u + low in float32).
  auto uv = values<float>(u), vv = values<float>(v);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(vv[i], 8.0f * uv[i] + -3.0f);

  // Bits near UINT32_MAX round to 1 in float32; the clamp keeps every sample below high.
  auto w = random::uniform(array(-1.0f), array(1.0f), {n}, float32, random::key(128291));
  auto mw = moments<float>(w);
  EXPECT_GE(mw.min, -1.0);
  EXPECT_LT(mw.max, 1.0);
}

TEST(RandomUniform, BroadcastBounds) {
  auto x = random::uniform(zeros({3, 1}), ones({1, 3}), {3, 3});
  EXPECT_EQ(x.shape(), Shape({3, 3}));
  auto low = array({0.0f, 10.0f, 100.0f}, {3, 1});
  auto high = array({1.0f, 20.0f, 300.0f}, {3, 1});
  auto y = values<float>(random::uniform(low, high, {3, 1000}, float32, random::key(9)));
  for (int r = 0; r < 3; ++r) {
    const float lo[] = {0, 10, 100}, hi[] = {1, 20, 300};
    for (int c = 0; c < 1000; ++c) {
      EXPECT_GE(y[r * 1000 + c], lo[r]);
      EXPECT_LT(y[r * 1000 + c], hi[r]);
    }
  }
}

TEST(RandomUniform, HalfPrecisionAndFloat64) {
  for (Dtype t : {float16, bfloat16}) {
    auto out = random::uniform({10000}, t, random::key(0));
    EXPECT_EQ(out.dtype(), t);
    auto m = moments<float>(astype(out, float32));
    EXPECT_GE(m.min, 0.0);
    EXPECT_LT(m.max, 1.0);
    EXPECT_GT(m.max, 0.0);
    EXPECT_NEAR(m.mean, 0.5, 0.02);
    // A range in low precision: the bounds are cast to the dtype first (as MLX), and the
    // samples stay in [low, high) of the cast bounds.
    auto r = moments<float>(astype(random::uniform(-0.1f, 0.1f, {10000}, t, random::key(1)), float32));
    const float lo = astype(array(-0.1f), t).item<float>(), hi = astype(array(0.1f), t).item<float>();
    EXPECT_GE(r.min, lo);
    EXPECT_LT(r.max, hi);
    EXPECT_LT(r.min, lo + 0.01f);
    EXPECT_GT(r.max, hi - 0.01f);
  }
  auto d = random::uniform({1000}, float64, random::key(0), Device(Device::cpu));
  EXPECT_EQ(d.dtype(), float64);
  auto f = values<float>(random::uniform({1000}, float32, random::key(0)));
  auto dv = values<double>(d);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(static_cast<float>(dv[i]), f[i]);
}

TEST(RandomUniform, BadInput) {
  expect_invalid([] { random::uniform({}, int32); }, {"[random.uniform]", "int32"});
  expect_invalid([] { random::uniform({}, complex64); }, {"[random.uniform]", "complex64"});
  expect_invalid([] { random::uniform({2, -3}); }, {"[random.uniform]", "(2,-3)"});
  // MLX's broadcast failures.
  expect_invalid([] { random::uniform(zeros({3, 3}), 1.0f, {1, 3}); },
                 {"[random.uniform]", "(1,3)", "(3,3)"});
  expect_invalid([] { random::uniform(zeros({3, 3}), 1.0f, {2, 3}); }, {"[random.uniform]"});
  expect_invalid([] { random::uniform(zeros({3, 1}), ones({1, 3}), {1, 3}); },
                 {"[random.uniform]"});
  // MLX's bad keys.
  expect_invalid([] { random::uniform({}, array({0, 0})); }, {"[random.uniform]", "int32"});
  expect_invalid([] { random::uniform({}, array({0, 0}, {1, 2})); }, {"[random.uniform]"});
  expect_invalid([] { random::uniform({}, array({0u, 0u, 0u}, {3, 1})); }, {"(3,1)"});
  expect_invalid([] { random::uniform({}, array({0u, 0u}, {2, 1})); }, {"(2,1)"});
}

// ---------------------------------------------------------------------------------------------
// Normal

TEST(RandomNormal, Moments) {
  const int n = 100000;
  auto key = random::key(128291);
  auto z = random::normal({n}, key);
  EXPECT_EQ(z.dtype(), float32);
  auto m = moments<float>(z);
  EXPECT_TRUE(std::isfinite(m.min) && std::isfinite(m.max));
  EXPECT_NEAR(m.mean, 0.0, 0.015);               // sd of the mean ~ 0.0032
  EXPECT_NEAR(std::sqrt(m.var), 1.0, 0.015);     // sd ~ 0.0022
  EXPECT_LT(m.max, 6.5);
  EXPECT_GT(m.min, -6.5);

  auto w = random::normal({n}, float32, 3.0f, 0.5f, random::key(5));
  auto mw = moments<float>(w);
  EXPECT_NEAR(mw.mean, 3.0, 0.01);
  EXPECT_NEAR(std::sqrt(mw.var), 0.5, 0.01);

  // Same key -> same values, different key -> different.
  EXPECT_EQ(values<float>(random::normal({16}, key)), values<float>(random::normal({16}, key)));
  EXPECT_NE(values<float>(random::normal({16}, key)),
            values<float>(random::normal({16}, random::key(1))));
}

TEST(RandomNormal, LocScaleAndDtypes) {
  // MLX test_normal_and_laplace: loc + scale * normal(key) (allclose).
  auto key = random::key(0);
  auto a = values<float>(random::normal({3, 2}, float32, 1.0f, 2.0f, key));
  auto b = values<float>(random::normal({3, 2}, key));
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], 2.0f * b[i] + 1.0f, 1e-5f);
  // Array loc/scale broadcast over the samples.
  auto c = random::normal({2, 3}, float32, array({0.0f, 10.0f, 100.0f}), array(2.0f), key);
  EXPECT_EQ(c.shape(), Shape({2, 3}));
  auto cv = values<float>(c), zv = values<float>(random::normal({2, 3}, key));
  const float loc[] = {0, 10, 100};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(cv[i], loc[i % 3] + 2.0f * zv[i], 1e-4f);

  // The samples are sqrt(2) * erfinv(u), u = uniform on [nextafter(-1, 0), 1) from the bits.
  auto u = values<float>(random::uniform(array(std::nextafter(-1.0f, 0.0f)), array(1.0f), {6},
                                         float32, key));
  auto e = values<float>(multiply(array(static_cast<float>(std::sqrt(2.0))),
                                  erfinv(array(u.begin(), Shape{6})), Device(Device::cpu)));
  EXPECT_EQ(values<float>(random::normal({6}, key)), e);

  for (Dtype t : {float16, bfloat16}) {
    auto h = random::normal({10000}, t, random::key(128291));
    EXPECT_EQ(h.dtype(), t);
    auto m = moments<float>(astype(h, float32));
    EXPECT_TRUE(std::isfinite(m.min) && std::isfinite(m.max));
    EXPECT_NEAR(m.mean, 0.0, 0.1);
    auto hl = random::normal({3, 2}, t, 1.0f, 2.0f, key);
    EXPECT_EQ(hl.dtype(), t);
  }
  EXPECT_EQ(random::normal({}).shape(), Shape({}));
  EXPECT_EQ(random::normal({2, 3}).shape(), Shape({2, 3}));
  EXPECT_EQ(random::normal({0}).size(), 0u);
}

TEST(RandomNormal, BadInput) {
  expect_invalid([] { random::normal({}, int32); }, {"[random.normal]", "int32"});
  expect_invalid([] { random::normal({}, uint8); }, {"[random.normal]", "uint8"});
  expect_invalid([] { random::normal({-1}); }, {"[random.normal]", "(-1,)"});
  expect_invalid([] { random::normal({}, array({0, 0})); }, {"[random.normal]", "int32"});
  expect_invalid([] { random::normal({}, array({0, 0}, {1, 2})); }, {"[random.normal]"});
  expect_invalid([] { random::normal({}, array({0u, 0u, 0u}, {3, 1})); }, {"(3,1)"});
  expect_invalid([] { random::normal({}, array({0u, 0u}, {2, 1})); }, {"(2,1)"});
}
