// Parameter trees (utils/tree.hpp), nn::Module and the layers (nn/), and the optimizers and
// schedules (optim/): PyTorch / NumPy fixtures (tests/fixtures/nn.txt from gen_nn.py) for the
// layers and three optimizer steps on every device; the Module API against MLX's behaviour;
// gradients through nn::value_and_grad against finite differences; bad input.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "tessera/nn.hpp"
#include "tessera/optim.hpp"
#include "tessera/tessera.hpp"
#include "test_util.hpp"

namespace {

using namespace tessera;
using namespace tessera::test;

// ---------------------------------------------------------------------------------------------
// Trees

TEST(NnTree, FlattenUnflattenRoundTrip) {
  Tree t = Tree::dict();
  t["w"] = array({1.0f, 2.0f});
  t["layers"] = Tree::list({Tree::dict({{"weight", array(3.0f)}}), Tree::dict(), Tree::dict({{"bias", array(4.0f)}})});
  auto flat = tree::flatten(t);
  ASSERT_EQ(flat.size(), 3u);
  EXPECT_EQ(flat[0].first, "w");
  EXPECT_EQ(flat[1].first, "layers.0.weight");
  EXPECT_EQ(flat[2].first, "layers.2.bias");
  // The parameter-less module at layers.1 comes back as an empty dict (MLX's tree_unflatten).
  Tree back = tree::unflatten(flat);
  ASSERT_TRUE(back.at("layers").is_list());
  EXPECT_EQ(back.at("layers").size(), 3u);
  EXPECT_TRUE(back.at("layers")[1].is_dict());
  EXPECT_EQ(back.find_path("layers.2.bias")->as_array().item<float>(), 4.0f);
  EXPECT_EQ(tree::flatten(t, "model")[0].first, "model.w");
}

TEST(NnTree, MapReduceMerge) {
  Tree a = Tree::dict({{"x", array(1.0f)}, {"y", Tree::list({array(2.0f), array(3.0f)})}});
  Tree b = tree::map([](const array& v) { return array(v * 10); }, a);
  Tree c = tree::map([](const array& u, const array& v) { return array(u + v); }, a, b);
  EXPECT_EQ(c.find_path("y.1")->as_array().item<float>(), 33.0f);
  std::vector<std::string> paths;
  tree::map_with_path([&](const std::string& p, const array& v) { paths.push_back(p); return v; }, a);
  EXPECT_EQ(paths, (std::vector<std::string>{"x", "y.0", "y.1"}));
  const float total = tree::reduce([](float acc, const array& v) { return acc + v.item<float>(); }, a, 0.0f);
  EXPECT_EQ(total, 6.0f);
  Tree m = tree::merge(Tree::dict({{"p", array(1.0f)}}), Tree::dict({{"q", array(2.0f)}}));
  EXPECT_EQ(m.size(), 2u);
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { tree::merge(a, a); }, {"[tree::merge]", "overlap"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { tree::map([](const array& u, const array& v) { return array(u + v); }, a, Tree::dict({{"x", array(1.0f)}})); },
      {"[tree::map]", "'y.0'"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([] { tree::unflatten(std::vector<std::pair<std::string, array>>{{"a..b", array(1.0f)}}); },
                                                 {"[tree::unflatten]", "empty part"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [] { tree::unflatten(std::vector<std::pair<std::string, array>>{{"l.99999999", array(1.0f)}}); },
      {"[tree::unflatten]", "too large"}));
}

// ---------------------------------------------------------------------------------------------
// Module

struct TwoLayer : nn::Module {
  nn::Linear fc1, fc2;
  std::vector<nn::Linear> heads;
  TwoLayer() : fc1(4, 8), fc2(8, 3), heads{nn::Linear(3, 2), nn::Linear(3, 2, false)} {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
    register_modules("heads", heads);
  }
  std::string name() const override { return "TwoLayer"; }
  array operator()(const array& x) { return heads[0](fc2(nn::relu(fc1(x)))) + heads[1](fc2(nn::relu(fc1(x)))); }
};

std::vector<std::string> keys(const Tree& t) {
  std::vector<std::string> out;
  for (auto& [k, v] : tree::flatten_arrays(t)) out.push_back(k);
  return out;
}

TEST(NnModule, ParametersFreezeUpdate) {
  TwoLayer m;
  EXPECT_EQ(keys(m.parameters()), (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias",
                                                            "heads.0.weight", "heads.0.bias", "heads.1.weight"}));
  m.fc1.freeze();
  EXPECT_EQ(keys(m.trainable_parameters()).size(), 5u);
  m.freeze({.recurse = true, .keys = {"bias"}});
  EXPECT_EQ(keys(m.trainable_parameters()), (std::vector<std::string>{"fc2.weight", "heads.0.weight", "heads.1.weight"}));
  m.unfreeze();
  EXPECT_EQ(keys(m.trainable_parameters()).size(), 7u);
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { m.freeze({.keys = {"nope"}, .strict = true}); }, {"[Module::freeze]", "'nope'"}));

  // update: partial trees, strict key and shape checks.
  m.update(Tree::dict({{"fc2", Tree::dict({{"bias", zeros({3})}})}}));
  EXPECT_TRUE(arrays_equal(*m.fc2.bias, zeros({3})));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { m.update(Tree::dict({{"fc3", Tree::dict()}})); },
                                                 {"[Module::update]", "'fc3'"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { m.update(Tree::dict({{"fc2", Tree::dict({{"bias", zeros({4})}})}})); },
      {"[Module::update]", "'fc2.bias'", "(3,)", "(4,)"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { m.update(Tree::dict({{"heads", Tree::list({Tree::dict(), Tree::dict({{"bias", zeros({2})}})})}})); },
      {"[Module::update]", "'heads.1.bias'"}));
  m.update(Tree::dict({{"fc3", Tree::dict()}}), false);  // not strict: ignored

  // Copies own their registry: updating the copy leaves the original alone.
  TwoLayer copy = m;
  copy.update(Tree::dict({{"fc1", Tree::dict({{"weight", ones({8, 4})}})}}));
  EXPECT_TRUE(arrays_equal(copy.fc1.weight, ones({8, 4})));
  EXPECT_FALSE(arrays_equal(m.fc1.weight, ones({8, 4})));

  m.set_dtype(float16);
  EXPECT_EQ(m.heads[1].weight.dtype(), float16);
}

TEST(NnModule, ModulesTrainEvalAndPrinting) {
  TwoLayer m;
  std::vector<std::string> names;
  for (auto& [p, mod] : m.named_modules()) names.push_back(p);
  // MLX's order: the module itself, then a stack walk (later children first).
  EXPECT_EQ(names, (std::vector<std::string>{"", "heads.1", "heads.0", "fc2", "fc1"}));
  EXPECT_EQ(m.leaf_modules().size(), 4u);
  EXPECT_EQ(m.children().size(), 4u);
  m.eval();
  EXPECT_FALSE(m.heads[0].training());
  m.train();
  EXPECT_TRUE(m.fc1.training());
  std::ostringstream os;
  os << nn::Linear(2, 3);
  EXPECT_EQ(os.str(), "Linear(input_dims=2, output_dims=3, bias=True)");
  nn::Sequential seq(nn::Linear(2, 3), nn::ReLU(), nn::Linear(3, 1, false));
  os.str("");
  os << seq;
  EXPECT_EQ(os.str(),
            "Sequential(\n  (layers.0): Linear(input_dims=2, output_dims=3, bias=True)\n  (layers.1): ReLU()\n"
            "  (layers.2): Linear(input_dims=3, output_dims=1, bias=False)\n)");
  EXPECT_EQ(keys(seq.parameters()), (std::vector<std::string>{"layers.0.weight", "layers.0.bias", "layers.2.weight"}));
}

TEST(NnModule, LoadWeights) {
  nn::Linear l(2, 3);
  l.load_weights({{"weight", ones({3, 2})}, {"bias", zeros({3})}});
  EXPECT_TRUE(arrays_equal(l(ones({1, 2})), full({1, 3}, array(2.0f))));
  using IA = std::invalid_argument;
  EXPECT_TRUE(throws_with<IA>([&] { l.load_weights({{"weight", ones({3, 2})}}); }, {"[load_weights]", "missing", "'bias'"}));
  EXPECT_TRUE(throws_with<IA>([&] { l.load_weights({{"weight", ones({2, 3})}, {"bias", zeros({3})}}); },
                              {"[load_weights]", "'weight'", "(2,3)", "(3,2)"}));
  EXPECT_TRUE(throws_with<IA>([&] { l.load_weights({{"weight", ones({3, 2})}, {"bias", zeros({3})}, {"x", zeros({1})}}); },
                              {"[load_weights]", "'x'"}));
  l.load_weights({{"weight", full({3, 2}, array(2.0f))}}, false);
  EXPECT_TRUE(arrays_equal(l.weight, full({3, 2}, array(2.0f))));
}

struct NetWithMember : nn::Module {
  nn::Linear fc;
  NetWithMember() : fc(2, 2) { register_module("fc", fc); }
  std::string name() const override { return "NetWithMember"; }
};

// filter_and_map (parameters() and trainable_parameters() are two of its filters) and
// update_modules: a pointer slot takes any module, a value slot a module of its own type.
TEST(NnModule, FilterAndMapAndUpdateModules) {
  using IA = std::invalid_argument;
  nn::Sequential model(nn::Linear(4, 3), nn::ReLU(), nn::Linear(3, 2));
  Tree weights = model.filter_and_map([](const nn::Module&, const std::string& k, const array&) { return k == "weight"; },
                                      [](const array& a) { return zeros_like(a); });
  EXPECT_EQ(keys(weights), (std::vector<std::string>{"layers.0.weight", "layers.2.weight"}));
  EXPECT_TRUE(arrays_equal(weights.find_path("layers.2.weight")->as_array(), zeros({2, 3})));
  model.freeze({.keys = {"bias"}});
  EXPECT_EQ(keys(model.trainable_parameters()), (std::vector<std::string>{"layers.0.weight", "layers.2.weight"}));
  EXPECT_FALSE(model.layers[0]->is_trainable("bias"));
  EXPECT_TRUE(model.layers[0]->is_trainable("weight"));

  model.update_modules({{"layers.2", std::make_shared<nn::Linear>(3, 5)}, {"layers.1", std::make_shared<nn::Identity>()}});
  EXPECT_EQ(model(ones({1, 4})).shape(), (Shape{1, 5}));
  EXPECT_EQ(model.layers[1]->name(), "Identity");
  EXPECT_TRUE(throws_with<IA>([&] { model.update_modules({{"layers.7", std::make_shared<nn::ReLU>()}}); },
                              {"[update_modules]", "'layers.7'"}));
  model.update_modules({{"layers.7", std::make_shared<nn::ReLU>()}}, false);  // not strict: ignored

  NetWithMember net;
  auto replacement = std::make_shared<nn::Linear>(2, 2);
  net.update_modules({{"fc", replacement}});
  EXPECT_TRUE(arrays_equal(net.fc.weight, replacement->weight));
  EXPECT_TRUE(throws_with<IA>([&] { net.update_modules({{"fc", std::make_shared<nn::ReLU>()}}); },
                              {"[update_modules]", "by value", "Linear", "ReLU"}));
  EXPECT_TRUE(throws_with<IA>([&] { net.update_modules({{"fc", nullptr}}); }, {"[update_modules]", "null"}));
}

// save_weights / load_weights through files: .npz and .safetensors round trip a nested model
// (names "layers.0.weight", ...); another extension is refused before anything is written.
TEST(NnModule, SaveAndLoadWeightFiles) {
  const auto dir = std::filesystem::temp_directory_path() / ("tessera_nn_weights_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  nn::Sequential model(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 2));
  const array x = random::normal({3, 4});
  const array before = model(x);
  using IA = std::invalid_argument;
  for (const char* name : {"w.npz", "w.safetensors"}) {
    model.save_weights(dir / name);
    nn::Sequential other(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 2));
    EXPECT_FALSE(arrays_equal(other(x), before));
    other.load_weights((dir / name).string());
    EXPECT_TRUE(arrays_equal(other(x), before)) << name;
    nn::Sequential wrong(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 3));
    EXPECT_TRUE(throws_with<IA>([&] { wrong.load_weights(dir / name); }, {"[load_weights]", "'layers.2.bias'", "(2,)", "(3,)"}));
  }
  EXPECT_TRUE(throws_with<IA>([&] { model.save_weights(dir / "w.bin"); }, {"[save_weights]", "w.bin", ".safetensors"}));
  EXPECT_TRUE(throws_with<IA>([&] { model.load_weights(dir / "w.gguf"); }, {"[load_weights]", "w.gguf"}));
  EXPECT_FALSE(std::filesystem::exists(dir / "w.bin"));
  std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Layers against the fixtures

std::vector<int> ints(const std::string& s) {
  std::vector<int> out;
  for (auto& p : split_fields(s, ',')) out.push_back(std::stoi(p));
  return out;
}

array run_layer(const std::string& what, const std::string& args, const std::vector<array>& in) {
  if (what == "MaxPool2d" || what == "AvgPool2d" || what == "MaxPool1d") {
    auto a = ints(args);
    if (what == "MaxPool2d") return nn::MaxPool2d(a[0], a[1], a[2])(in[0]);
    if (what == "AvgPool2d") return nn::AvgPool2d(a[0], a[1], a[2])(in[0]);
    return nn::MaxPool1d(a[0], a[1], a[2])(in[0]);
  }
  if (what == "LayerNorm") {
    nn::LayerNorm l(std::stoi(args));
    l.update(Tree::dict({{"weight", in[1]}, {"bias", in[2]}}));
    return l(in[0]);
  }
  if (what == "RMSNorm") {
    nn::RMSNorm l(std::stoi(args));
    l.update(Tree::dict({{"weight", in[1]}}));
    return l(in[0]);
  }
  if (what == "GroupNorm") {
    auto parts = split_fields(args, ',');
    nn::GroupNorm l(std::stoi(parts[0]), std::stoi(parts[1]), 1e-5f, true, parts[2] == "pt");
    l.update(Tree::dict({{"weight", in[1]}, {"bias", in[2]}}));
    return l(in[0]);
  }
  if (what == "InstanceNorm") return nn::InstanceNorm(std::stoi(args))(in[0]);
  if (what == "BatchNorm") {
    nn::BatchNorm l(in[0].shape(-1));
    l.update(Tree::dict({{"weight", in[1]}, {"bias", in[2]}}));
    array y = l(in[0]);
    if (args == "train") return y;
    if (args == "running_mean") return *l.running_mean;
    if (args == "running_var") return *l.running_var;
    l.eval();
    return l(in[3]);
  }
  if (what == "Bilinear") {
    auto a = ints(args);
    nn::Bilinear l(a[0], a[1], a[2]);
    l.update(Tree::dict({{"weight", in[2]}, {"bias", in[3]}}));
    return l(in[0], in[1]);
  }
  throw std::invalid_argument("[test] unknown layer " + what);
}

std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& what, const std::string& args) {
  auto a = split_fields(args, ',');
  const float lr = std::stof(a[0]);
  const bool bc = !a.empty() && a.back() == "bc";
  if (what == "SGD") {
    return std::make_unique<optim::SGD>(lr, a.size() > 1 ? std::stof(a[1]) : 0.0f, a.size() > 2 ? std::stof(a[2]) : 0.0f,
                                        0.0f, a.size() > 3 && a[3] == "nesterov");
  }
  if (what == "Adam") return std::make_unique<optim::Adam>(lr, std::pair{0.9f, 0.999f}, 1e-8f, bc);
  if (what == "AdamW") return std::make_unique<optim::AdamW>(lr, std::pair{0.9f, 0.999f}, 1e-8f, std::stof(a[1]), bc);
  if (what == "RMSprop") return std::make_unique<optim::RMSprop>(lr);
  if (what == "Adagrad") return std::make_unique<optim::Adagrad>(lr);
  if (what == "AdaDelta") return std::make_unique<optim::AdaDelta>(lr);
  if (what == "Adamax") return std::make_unique<optim::Adamax>(lr);
  if (what == "Lion") return std::make_unique<optim::Lion>(lr, std::pair{0.9f, 0.99f}, std::stof(a[1]));
  throw std::invalid_argument("[test] unknown optimizer " + what);
}

class NnFixture : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(NnFixture, MatchesReference) {
  const FixtureCase& c = GetParam();
  const auto hash = c.op.find('#');
  const std::string what = c.op.substr(0, hash), args = c.op.substr(hash + 1);
  for_each_device([&](Device) {
    std::vector<array> in;
    for (auto& t : c.inputs) in.push_back(fixture_array(t));
    array out = array(0.0f);
    if (c.name.find("pool") != std::string::npos || c.name.find("norm") != std::string::npos || what == "Bilinear") {
      out = run_layer(what, args, in);
    } else {
      auto opt = make_optimizer(what, args);
      Tree params = Tree::dict({{"p", in[0]}});
      for (int step = 1; step <= 3; ++step) params = opt->apply_gradients(Tree::dict({{"p", in[step]}}), params);
      out = params.at("p").as_array();
      EXPECT_EQ(opt->step().item<uint64_t>(), 3u);
    }
    ASSERT_EQ(out.shape(), c.output.shape);
    EXPECT_TRUE(close_values(out, c.output.values, 2e-5, 2e-5));
  });
}

INSTANTIATE_TEST_SUITE_P(Fixtures, NnFixture, ::testing::ValuesIn(load_fixture("nn.txt")),
                         [](const auto& info) { return info.param.name; });

TEST(NnLayers, LinearConvEmbeddingDropout) {
  for_each_device([](Device) {
    nn::Linear l(3, 2);
    array x = random_array({4, 3}, 1);
    EXPECT_TRUE(arrays_close(l(x), matmul(x, transpose(l.weight)) + *l.bias, 1e-6, 1e-6));
    EXPECT_TRUE(arrays_close(l(reshape(x, {2, 2, 3})), reshape(l(x), {2, 2, 2}), 1e-6, 1e-6));
    nn::Conv2d conv(2, 3, 3, 1, 1);
    EXPECT_EQ(conv.weight.shape(), (Shape{3, 3, 3, 2}));
    array img = random_array({1, 5, 5, 2}, 2);
    EXPECT_TRUE(arrays_close(conv(img), conv2d(img, conv.weight, {1, 1}, {1, 1}) + *conv.bias, 1e-6, 1e-6));
    nn::Embedding emb(10, 4);
    EXPECT_TRUE(arrays_equal(emb(array({3, 3})), stack({take(emb.weight, 3, 0), take(emb.weight, 3, 0)})));
    EXPECT_EQ(emb.as_linear(ones({2, 4})).shape(), (Shape{2, 10}));
    nn::Dropout drop(0.5f);
    array y = drop(ones({1000}));
    const auto v = y.to_vector<float>();
    const auto zeros_seen = std::count(v.begin(), v.end(), 0.0f), twos = std::count(v.begin(), v.end(), 2.0f);
    EXPECT_EQ(zeros_seen + twos, 1000);  // dropped, or kept and scaled by 1 / (1 - p)
    EXPECT_GT(zeros_seen, 400);
    EXPECT_LT(zeros_seen, 600);
    drop.eval();
    EXPECT_TRUE(arrays_equal(drop(ones({10})), ones({10})));
    nn::Dropout2d drop2(0.5f);
    array y2 = drop2(ones({2, 4, 4, 8}));
    // Whole channels: every spatial position of a channel agrees.
    EXPECT_TRUE(arrays_equal(max(y2, {1, 2}), min(y2, {1, 2})));
  });
}

TEST(NnLayers, RejectsBadInput) {
  using IA = std::invalid_argument;
  nn::Linear l(3, 2);
  EXPECT_TRUE(throws_with<IA>([&] { l(zeros({4, 5})); }, {"[Linear]", "(4,5)", "3 features"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::Linear(0, 2); }, {"[Linear]", "input_dims"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::Conv2d(3, 4, 3, 1, 0, 1, 2); }, {"[Conv2d]", "groups"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::MaxPool2d(2)(zeros({4, 4, 3})); }, {"[MaxPool2d]", "(4,4,3)"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::MaxPool2d(3, 1, 2); }, {"[MaxPool2d]", "padding"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::Dropout(1.0f); }, {"[Dropout]", "[0, 1)"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::LayerNorm(4)(zeros({2, 3})); }, {"[LayerNorm]", "(2,3)"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::BatchNorm(3)(zeros({1, 3})); }, {"[BatchNorm]", "more than one value"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::Embedding(4, 2)(zeros({2})); }, {"[Embedding]", "integers"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::GroupNorm(4, 6); }, {"[GroupNorm]", "divisible"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::GELU("exact"); }, {"[GELU]", "'exact'"}));
}

// ---------------------------------------------------------------------------------------------
// nn::value_and_grad, optimizers on modules, schedules

TEST(NnTraining, ValueAndGradMatchesFiniteDifferences) {
  nn::Sequential model(nn::Linear(3, 4), nn::Tanh(), nn::Linear(4, 2));
  model.set_dtype(float64);
  array x = random_array({5, 3}, 3, float64), y = random_array({5, 2}, 4, float64);
  auto loss_fn = [&](const array& xs, const array& ys) { return mean(square(model(xs) - ys)); };
  auto [loss, grads] = nn::value_and_grad(model, loss_fn)(x, y);
  EXPECT_NEAR(loss.item<double>(), loss_fn(x, y).item<double>(), 1e-12);
  // The model keeps its own parameters afterwards.
  EXPECT_EQ(model.parameters().find_path("layers.0.weight")->as_array().dtype(), float64);
  ASSERT_EQ(keys(grads), keys(model.trainable_parameters()));
  for (auto& [path, g] : tree::flatten_arrays(grads)) {
    const array p = model.parameters().find_path(path)->as_array();
    auto at = [&](double delta, int64_t k) {
      std::vector<double> v = values(p);
      v[k] += delta;
      // A Sequential's copies share their layers: perturb the model itself and put p back.
      auto set = [&](const array& value) {
        model.update(tree::unflatten(std::vector<std::pair<std::string, array>>{{path, value}}));
      };
      set(array(v, p.shape(), float64));
      const double loss_at = mean(square(model(x) - y)).item<double>();
      set(p);
      return loss_at;
    };
    const auto gv = values(g);
    for (int64_t k = 0; k < p.size(); ++k) {
      EXPECT_NEAR(gv[k], (at(1e-6, k) - at(-1e-6, k)) / 2e-6, 1e-6) << path << "[" << k << "]";
    }
  }
}

TEST(NnTraining, OptimizerTrainsAModelOnEveryDevice) {
  for_each_device([](Device) {
    random::seed(3);
    nn::Sequential model(nn::Linear(2, 16), nn::ReLU(), nn::Linear(16, 1));
    optim::Adam opt(0.05f);
    array x = random::uniform({64, 2});
    array y = sum(x, -1, true);
    auto step = nn::value_and_grad(model, [&](const array& a, const array& b) { return mean(square(model(a) - b)); });
    float first = 0, last = 0;
    for (int i = 0; i < 150; ++i) {
      auto [loss, grads] = step(x, y);
      opt.update(model, grads);
      eval({loss});
      if (i == 0) first = loss.item<float>();
      last = loss.item<float>();
    }
    EXPECT_LT(last, first * 0.02f);
    // The state mirrors the parameters, with step and learning_rate on top; it restores.
    EXPECT_TRUE(opt.state().find_path("layers.0.weight.m") != nullptr);
    EXPECT_TRUE(opt.state().find_path("layers.1") != nullptr);
    optim::Adam restored(0.05f);
    restored.set_state(opt.state());
    EXPECT_EQ(restored.step().item<uint64_t>(), 150u);
  });
}

TEST(NnTraining, OptimizerRejectsMismatchedTrees) {
  optim::SGD opt(0.1f);
  Tree params = Tree::dict({{"w", zeros({2, 2})}});
  using IA = std::invalid_argument;
  EXPECT_TRUE(throws_with<IA>([&] { opt.apply_gradients(Tree::dict({{"w", zeros({3})}}), params); },
                              {"[SGD]", "'w'", "(3,)", "(2,2)"}));
  EXPECT_TRUE(throws_with<IA>([&] { opt.apply_gradients(Tree::dict({{"v", zeros({2, 2})}}), params); },
                              {"[SGD]", "'v'"}));
  EXPECT_TRUE(throws_with<IA>([] { optim::SGD(0.1f, 0.0f, 0.0f, 0.0f, true); }, {"[SGD]", "Nesterov"}));
  EXPECT_TRUE(throws_with<IA>([] { optim::Adam(0.1f, {1.5f, 0.9f}); }, {"[Adam]", "betas[0]"}));
}

// The golden values of MLX's schedule documents, with MLX's step convention: an optimizer's
// learning rate is its schedule at the step count before the update.
TEST(NnTraining, SchedulesMatchMlxDocs) {
  // The learning rate after `updates` updates (of an empty tree, as the docs' examples).
  auto after = [](optim::Schedule s, int updates) {
    optim::SGD opt(std::move(s));
    for (int i = 0; i < updates; ++i) opt.apply_gradients(Tree::dict(), Tree::dict());
    return opt.learning_rate().item<float>();
  };
  EXPECT_NEAR(after(optim::cosine_decay(0.1f, 1000), 5), 0.0999961f, 1e-7);
  EXPECT_NEAR(after(optim::exponential_decay(0.1f, 0.9f), 5), 0.06561f, 1e-7);
  EXPECT_NEAR(after(optim::step_decay(0.1f, 0.9f, 10), 21), 0.081f, 1e-7);
  EXPECT_NEAR(after(optim::linear_schedule(0.0f, 0.1f, 100), 101), 0.1f, 1e-7);
  EXPECT_NEAR(after(optim::linear_schedule(0.0f, 0.1f, 100), 500), 0.1f, 1e-7);
  auto warmup = [] { return optim::join_schedules({optim::linear_schedule(0.0f, 0.1f, 10), optim::cosine_decay(0.1f, 200)}, {10}); };
  EXPECT_NEAR(after(warmup(), 0), 0.0f, 1e-7);
  EXPECT_NEAR(after(warmup(), 12), 0.0999938f, 1e-7);
  optim::SGD opt(optim::exponential_decay(0.1f, 0.5f));
  EXPECT_NEAR(opt.learning_rate().item<float>(), 0.1f, 1e-7);  // schedule(0) before any update
  Tree p = Tree::dict({{"w", ones({2})}});
  p = opt.apply_gradients(Tree::dict({{"w", ones({2})}}), p);
  EXPECT_NEAR(opt.learning_rate().item<float>(), 0.1f, 1e-7);  // the first update used step 0
  p = opt.apply_gradients(Tree::dict({{"w", ones({2})}}), p);
  EXPECT_NEAR(opt.learning_rate().item<float>(), 0.05f, 1e-7);
  EXPECT_TRUE(close_values(p.at("w").as_array(), {0.85, 0.85}, 1e-6, 1e-6));
}

TEST(NnTraining, ClipGradNorm) {
  Tree g = Tree::dict({{"a", array({3.0f, 0.0f})}, {"b", array({4.0f})}});
  auto [clipped, norm] = optim::clip_grad_norm(g, 1.0f);
  EXPECT_NEAR(norm.item<float>(), 5.0f, 1e-6);
  EXPECT_TRUE(close_values(clipped.at("a").as_array(), {0.6, 0.0}, 1e-5, 1e-6));
  auto [same, n2] = optim::clip_grad_norm(g, 10.0f);
  EXPECT_TRUE(arrays_equal(same.at("b").as_array(), array({4.0f})));
}

}  // namespace
