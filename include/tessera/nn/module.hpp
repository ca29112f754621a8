#pragma once
// nn::Module, MLX's mlx.nn.Module in C++: a layer is a class whose members are its parameters
// (arrays) and sub-modules, listed once in its constructor; the base turns them into a parameter
// Tree (utils/tree.hpp) and back, so `update(tree)`, optimizers and `nn::value_and_grad` need
// nothing else.
//
//   struct MLP : nn::Module {
//     nn::Linear fc1, fc2;
//     MLP() : fc1(784, 512), fc2(512, 10) {
//       register_module("fc1", fc1);
//       register_module("fc2", fc2);
//     }
//     std::string name() const override { return "MLP"; }
//     array operator()(const array& x) { return fc2(nn::relu(fc1(x))); }
//   };
//
// Members are recorded by their offset inside the module, not by address, so modules are
// ordinary values: copying one copies its array handles (cheap; arrays are immutable) and the
// copy's registry points at the copy's own members.
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/io.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/transforms/autodiff.hpp"
#include "tessera/utils/tree.hpp"

namespace tessera::nn {

class Module;

struct FreezeOptions {
  bool recurse = true;
  std::vector<std::string> keys;  // local parameter names; empty: all of them
  bool strict = false;            // unknown keys throw
};

class Module {
 public:
  virtual ~Module() = default;

  // The class name used when printing ("Linear"), and its arguments ("input_dims=4, ...").
  virtual std::string name() const { return "Module"; }
  virtual std::string describe() const { return ""; }

  // The forward pass of a module that takes one array (Sequential calls this). Layers with
  // other inputs (attention) do not override it.
  virtual array forward(const array& x) {
    throw std::invalid_argument("[" + name() + "] does not take a single array input");
  }

  // ---- training mode ----
  bool training() const { return training_; }
  Module& train(bool mode = true) {
    apply_to_modules([mode](const std::string&, Module& m) { m.training_ = mode; });
    return *this;
  }
  Module& eval() { return train(false); }

  // ---- parameters ----
  // Every array of the module and its children (buffers such as running statistics too), as a
  // dict tree; lists of modules become lists.
  Tree parameters() const { return filter_and_map({}); }
  // The arrays that are not frozen (buffers never are trainable).
  Tree trainable_parameters() const {
    return filter_and_map([](const Module& m, const std::string& k, const array&) { return m.is_trainable(k); });
  }

  // Replaces the arrays at the tree's paths (a partial tree is fine). Under `strict`, a key the
  // module does not have, a non-array where an array stands, or a new array of another shape
  // throws std::invalid_argument naming the path.
  Module& update(const Tree& params, bool strict = true) {
    update_at(params, strict, "");
    return *this;
  }

  // MLX's filter_and_map: the arrays of this module and its children that
  // `filter(owner, key, value)` accepts (key: the name in its owner), each passed through
  // `map_fn` when given, as a dict tree like parameters(). parameters() is
  // filter_and_map(accept all), trainable_parameters() the same with owner.is_trainable(key).
  using ParameterFilter = std::function<bool(const Module& owner, const std::string& key, const array& value)>;
  Tree filter_and_map(const ParameterFilter& filter, const std::function<array(const array&)>& map_fn = {}) const {
    Tree out = Tree::dict();
    for (auto& e : entries_) {
      if (e.kind == Kind::Modules) {
        auto ms = e.modules(const_cast<void*>(slot(e)));
        if (e.is_list) {
          Tree::List l;
          for (auto* m : ms) l.push_back(m->filter_and_map(filter, map_fn));
          out[e.name] = Tree(std::move(l));
        } else if (!ms.empty()) {
          out[e.name] = ms[0]->filter_and_map(filter, map_fn);
        }
      } else if (is_array_entry(e) && (!filter || filter(*this, e.name, array_of(e)))) {
        out[e.name] = map_fn ? map_fn(array_of(e)) : array_of(e);
      }
    }
    return out;
  }
  // Whether the array member `key` of this module (not of a child) gets gradients: a
  // parameter that is not frozen; buffers never do.
  bool is_trainable(const std::string& key) const {
    for (auto& e : entries_)
      if (e.name == key && e.kind != Kind::Modules) return !e.buffer && !frozen_.count(key);
    return false;
  }

  // MLX's update_modules: replaces sub-modules at dotted paths ("layers.1", "encoder") with
  // the given modules. A sub-module held by shared_ptr (Sequential's layers, a list of
  // shared_ptr, a shared_ptr member) takes any module its pointer type can hold, so a Linear can
  // become another kind of layer; one held by value can only take a module of its own type,
  // copied in. Under `strict` a path that names no sub-module throws; a module of a type the
  // slot cannot hold always throws.
  Module& update_modules(const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& modules,
                         bool strict = true) {
    for (auto& [path, module] : modules) {
      if (!module) throw std::invalid_argument("[update_modules] the module for '" + path + "' is null");
      std::vector<std::string> parts;
      for (size_t start = 0;;) {
        const size_t dot = path.find('.', start);
        parts.push_back(path.substr(start, dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
      auto owner_at = [&](size_t n) -> Module* {  // the module at the first n parts
        std::string p;
        for (size_t k = 0; k < n; ++k) p += (k ? "." : "") + parts[k];
        for (auto& [q, m] : named_modules())
          if (q == p) return m;
        return nullptr;
      };
      const std::string& last = parts.back();
      const size_t n = parts.size();
      bool done = false;
      // "layers.1": entry 1 of the list "layers"; "encoder": the module member "encoder".
      if (n >= 2 && !last.empty() && last.size() < 9 && last.find_first_not_of("0123456789") == std::string::npos) {
        if (Module* o = owner_at(n - 2)) done = o->replace_child(parts[n - 2], std::stoul(last), module);
      }
      if (!done) {
        if (Module* o = owner_at(n - 1)) done = o->replace_child(last, std::string::npos, module);
      }
      if (!done && strict) throw std::invalid_argument("[update_modules] " + name() + " has no sub-module '" + path + "'");
    }
    return *this;
  }

  // (path, module) for the immediate sub-modules (list members as name.0, name.1, ...).
  std::vector<std::pair<std::string, Module*>> children() {
    std::vector<std::pair<std::string, Module*>> out;
    for (auto& e : entries_) {
      if (!e.modules) continue;
      auto ms = e.modules(slot(e));
      for (size_t i = 0; i < ms.size(); ++i) out.emplace_back(e.is_list ? e.name + "." + std::to_string(i) : e.name, ms[i]);
    }
    return out;
  }
  // Every module with its dotted path, this one first (path ""), in MLX's order.
  std::vector<std::pair<std::string, Module*>> named_modules() {
    std::vector<std::pair<std::string, Module*>> out;
    apply_to_modules([&](const std::string& p, Module& m) { out.emplace_back(p, &m); });
    return out;
  }
  std::vector<Module*> modules() {
    std::vector<Module*> out;
    for (auto& [p, m] : named_modules()) out.push_back(m);
    return out;
  }
  // The modules without children.
  std::vector<std::pair<std::string, Module*>> leaf_modules() {
    std::vector<std::pair<std::string, Module*>> out;
    for (auto& [p, m] : named_modules())
      if (m->children().empty()) out.emplace_back(p, m);
    return out;
  }

  // fn(path, module) for this module and every descendant (MLX's apply_to_modules: a stack, so
  // later children come first).
  Module& apply_to_modules(const std::function<void(const std::string&, Module&)>& fn) {
    std::vector<std::pair<std::string, Module*>> stack{{"", this}};
    while (!stack.empty()) {
      auto [prefix, m] = stack.back();
      stack.pop_back();
      fn(prefix, *m);
      for (auto& [k, child] : m->children()) stack.emplace_back(prefix.empty() ? k : prefix + "." + k, child);
    }
    return *this;
  }

  // Maps every parameter (frozen ones too) that `filter(path, array)` accepts and writes it back.
  Module& apply(const std::function<array(const array&)>& map_fn,
                const std::function<bool(const std::string&, const array&)>& filter = {}) {
    Tree mapped = tree::map_with_path(
        [&](const std::string& path, const array& a) { return !filter || filter(path, a) ? map_fn(a) : a; },
        parameters());
    return update(mapped, false);
  }
  // Casts the parameters whose dtype `predicate` accepts (floating ones by default).
  Module& set_dtype(Dtype dtype, const std::function<bool(Dtype)>& predicate = is_floating) {
    return apply([dtype](const array& a) { return astype(a, dtype); },
                 [&](const std::string&, const array& a) { return predicate(a.dtype()); });
  }

  // Marks parameters as not trainable (excluded from trainable_parameters, so no gradient).
  Module& freeze(const FreezeOptions& o = {}) { return set_frozen(o, true); }
  Module& unfreeze(const FreezeOptions& o = {}) { return set_frozen(o, false); }

  // MLX's save_weights / load_weights(file): the flattened parameters ("layers.0.weight") as a
  // .npz (savez) or .safetensors file, chosen by the extension; others are refused. Loading
  // checks names and shapes as the list form below does.
  void save_weights(const std::filesystem::path& file) const {
    std::unordered_map<std::string, array> named;
    for (auto& [k, v] : tree::flatten_arrays(parameters())) named.emplace(k, v);
    const auto format = format_of(file);
    if (format == Format::npz) {
      savez(file, named);
    } else if (format == Format::safetensors) {
      save_safetensors(file, std::move(named));
    } else {
      throw std::invalid_argument("[save_weights] unsupported file extension for '" + file.string() +
                                  "': use '.npz' or '.safetensors'");
    }
  }
  Module& load_weights(const std::filesystem::path& file, bool strict = true) {
    const auto format = format_of(file);
    if (format != Format::npz && format != Format::safetensors) {
      throw std::invalid_argument("[load_weights] unsupported file extension for '" + file.string() +
                                  "': use '.npz' or '.safetensors'");
    }
    auto loaded = format == Format::npz ? load_npz(file) : load_safetensors(file).first;
    std::vector<std::pair<std::string, array>> weights(loaded.begin(), loaded.end());
    std::sort(weights.begin(), weights.end(), [](auto& a, auto& b) { return a.first < b.first; });
    return load_weights(weights, strict);
  }
  Module& load_weights(const char* file, bool strict = true) { return load_weights(std::filesystem::path(file), strict); }
  Module& load_weights(const std::string& file, bool strict = true) {
    return load_weights(std::filesystem::path(file), strict);
  }

  // Loads (path, array) pairs. Under `strict` the keys must be exactly the module's parameters
  // and the shapes equal; otherwise matching keys are loaded and the rest ignored... except a
  // shape mismatch, which always throws.
  Module& load_weights(const std::vector<std::pair<std::string, array>>& weights, bool strict = true) {
    auto own = tree::flatten_arrays(parameters());
    std::vector<std::pair<std::string, array>> known;
    for (auto& [k, v] : weights) {
      auto it = std::find_if(own.begin(), own.end(), [&](auto& p) { return p.first == k; });
      if (it == own.end()) {
        if (strict) throw std::invalid_argument("[load_weights] " + name() + " has no parameter '" + k + "'");
        continue;
      }
      if (it->second.shape() != v.shape()) {
        throw std::invalid_argument("[load_weights] '" + k + "' has shape " + shape_string(v.shape()) + " but " +
                                    name() + " expects " + shape_string(it->second.shape()));
      }
      known.emplace_back(k, v);
    }
    if (strict) {
      for (auto& [k, v] : own) {
        if (std::none_of(weights.begin(), weights.end(), [&](auto& p) { return p.first == k; })) {
          throw std::invalid_argument("[load_weights] missing parameter '" + k + "' of " + name());
        }
      }
    }
    if (!known.empty()) update(tree::unflatten(known), false);
    return *this;
  }

  // MLX's repr: Name(args\n  (child): Child(...)\n).
  friend std::ostream& operator<<(std::ostream& os, const Module& m) {
    os << m.name() << "(" << m.describe();
    auto kids = const_cast<Module&>(m).children();
    for (auto& [k, child] : kids) {
      std::ostringstream inner;
      inner << *child;
      std::string text = inner.str(), indented;
      for (char c : text) indented += c == '\n' ? std::string("\n  ") : std::string(1, c);
      os << "\n  (" << k << "): " << indented;
    }
    if (!kids.empty()) os << "\n";
    return os << ")";
  }

 protected:
  Module() = default;
  Module(const Module&) = default;
  Module(Module&&) = default;
  Module& operator=(const Module&) = default;
  Module& operator=(Module&&) = default;

  // Register members of the derived class, once, in its constructor. The order of registration
  // is the order of parameters() and of printing.
  void register_parameter(const std::string& name, array& member) { add(name, member, Kind::Param); }
  // A parameter that may be absent (a bias switched off).
  void register_parameter(const std::string& name, std::optional<array>& member) { add(name, member, Kind::Optional); }
  // State that is saved and loaded but never trained (running statistics).
  void register_buffer(const std::string& name, array& member) { add(name, member, Kind::Param, nullptr, false, true); }
  void register_buffer(const std::string& name, std::optional<array>& member) {
    add(name, member, Kind::Optional, nullptr, false, true);
  }
  template <typename M>
    requires std::is_base_of_v<Module, M>
  void register_module(const std::string& name, M& member) {
    add(name, member, Kind::Modules, [](void* p) { return std::vector<Module*>{static_cast<M*>(p)}; }, false);
    entries_.back().replace = [](void* p, size_t, const std::shared_ptr<Module>& m, const std::string& what) {
      assign_module(*static_cast<M*>(p), m, what);
    };
  }
  template <typename M>
    requires std::is_base_of_v<Module, M>
  void register_module(const std::string& name, std::shared_ptr<M>& member) {
    add(name, member, Kind::Modules, [](void* p) {
      auto& ptr = *static_cast<std::shared_ptr<M>*>(p);
      return ptr ? std::vector<Module*>{ptr.get()} : std::vector<Module*>{};
    }, false);
    entries_.back().replace = [](void* p, size_t, const std::shared_ptr<Module>& m, const std::string& what) {
      assign_pointer(*static_cast<std::shared_ptr<M>*>(p), m, what);
    };
  }
  template <typename M>
    requires std::is_base_of_v<Module, M>
  void register_modules(const std::string& name, std::vector<M>& member) {
    add(name, member, Kind::Modules, [](void* p) {
      std::vector<Module*> out;
      for (auto& m : *static_cast<std::vector<M>*>(p)) out.push_back(&m);
      return out;
    }, true);
    entries_.back().replace = [](void* p, size_t i, const std::shared_ptr<Module>& m, const std::string& what) {
      assign_module((*static_cast<std::vector<M>*>(p))[i], m, what + "." + std::to_string(i));
    };
  }
  template <typename M>
    requires std::is_base_of_v<Module, M>
  void register_modules(const std::string& name, std::vector<std::shared_ptr<M>>& member) {
    add(name, member, Kind::Modules, [](void* p) {
      std::vector<Module*> out;
      for (auto& m : *static_cast<std::vector<std::shared_ptr<M>>*>(p)) out.push_back(m.get());
      return out;
    }, true);
    entries_.back().replace = [](void* p, size_t i, const std::shared_ptr<Module>& m, const std::string& what) {
      assign_pointer((*static_cast<std::vector<std::shared_ptr<M>>*>(p))[i], m, what + "." + std::to_string(i));
    };
  }

 private:
  enum class Kind { Param, Optional, Modules };
  struct Entry {
    std::string name;
    Kind kind;
    std::ptrdiff_t offset;  // of the member from this Module
    std::vector<Module*> (*modules)(void*) = nullptr;
    bool is_list = false;
    bool buffer = false;  // saved and loaded, never trained
    // Puts a module into the slot (at `index` for a list); throws when its type does not fit.
    void (*replace)(void* slot, size_t index, const std::shared_ptr<Module>& m, const std::string& what) = nullptr;
  };

  // replace_child's work: the entry `name` (a module slot, or the list `name` at `index`).
  bool replace_child(const std::string& name, size_t index, const std::shared_ptr<Module>& m) {
    for (auto& e : entries_) {
      if (e.name != name || e.kind != Kind::Modules) continue;
      if (e.is_list != (index != std::string::npos)) return false;
      if (e.is_list && index >= e.modules(slot(e)).size()) return false;
      e.replace(slot(e), index, m, this->name() + "." + name);
      return true;
    }
    return false;
  }
  template <typename M>
  static void assign_module(M& slot, const std::shared_ptr<Module>& m, const std::string& what) {
    auto* typed = dynamic_cast<M*>(m.get());
    if (!typed) throw std::invalid_argument("[update_modules] " + what + " holds a " + slot.name() + " by value; got a " + m->name());
    slot = *typed;
  }
  template <typename M>
  static void assign_pointer(std::shared_ptr<M>& slot, const std::shared_ptr<Module>& m, const std::string& what) {
    auto typed = std::dynamic_pointer_cast<M>(m);
    if (!typed) throw std::invalid_argument("[update_modules] " + what + " cannot hold a " + m->name());
    slot = std::move(typed);
  }

  template <typename T>
  void add(const std::string& name, T& member, Kind kind, std::vector<Module*> (*mods)(void*) = nullptr,
           bool is_list = false, bool buffer = false) {
    if (name.empty() || name.find('.') != std::string::npos) {
      throw std::invalid_argument("[Module] member names must be non-empty and without '.', got '" + name + "'");
    }
    for (auto& e : entries_)
      if (e.name == name) throw std::invalid_argument("[Module] '" + name + "' is registered twice in " + this->name());
    const auto offset = reinterpret_cast<const char*>(&member) - reinterpret_cast<const char*>(this);
    entries_.push_back({name, kind, offset, mods, is_list, buffer, nullptr});
  }
  void* slot(const Entry& e) { return reinterpret_cast<char*>(this) + e.offset; }
  const void* slot(const Entry& e) const { return reinterpret_cast<const char*>(this) + e.offset; }
  array& param(const Entry& e) { return *static_cast<array*>(slot(e)); }
  std::optional<array>& optional_param(const Entry& e) { return *static_cast<std::optional<array>*>(slot(e)); }
  bool is_array_entry(const Entry& e) const {
    return e.kind == Kind::Param ||
           (e.kind == Kind::Optional && static_cast<const std::optional<array>*>(slot(e))->has_value());
  }
  const array& array_of(const Entry& e) const {
    return e.kind == Kind::Optional ? **static_cast<const std::optional<array>*>(slot(e))
                                    : *static_cast<const array*>(slot(e));
  }

  void update_at(const Tree& params, bool strict, const std::string& prefix) {
    if (params.empty()) return;
    if (!params.is_dict()) {
      throw std::invalid_argument("[Module::update] expected a dict at '" + prefix + "' of " + name() + ", got " +
                                  params.kind());
    }
    for (auto& [k, v] : params.as_dict()) {
      const std::string path = prefix.empty() ? k : prefix + "." + k;
      auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == k; });
      if (it == entries_.end() || (it->kind == Kind::Optional && !optional_param(*it).has_value())) {
        if (strict) throw std::invalid_argument("[Module::update] " + name() + " has no parameter named '" + path + "'");
        continue;
      }
      if (it->kind == Kind::Modules) {
        auto ms = it->modules(slot(*it));
        if (!it->is_list) {
          if (!ms.empty()) ms[0]->update_at(v, strict, path);
          continue;
        }
        if (v.empty()) continue;
        if (!v.is_list()) throw std::invalid_argument("[Module::update] expected a list at '" + path + "', got " + v.kind());
        const auto& l = v.as_list();
        if (l.size() > ms.size() && strict) {
          throw std::invalid_argument("[Module::update] '" + path + "' has " + std::to_string(ms.size()) +
                                      " modules, the tree " + std::to_string(l.size()));
        }
        for (size_t i = 0; i < std::min(l.size(), ms.size()); ++i) ms[i]->update_at(l[i], strict, path + "." + std::to_string(i));
        continue;
      }
      if (!v.is_array()) {
        if (strict) throw std::invalid_argument("[Module::update] expected an array at '" + path + "', got " + v.kind());
        continue;
      }
      array& dst = it->kind == Kind::Optional ? *optional_param(*it) : param(*it);
      if (strict && dst.shape() != v.as_array().shape()) {
        throw std::invalid_argument("[Module::update] '" + path + "' of " + name() + " has shape " +
                                    shape_string(dst.shape()) + ", the new array " +
                                    shape_string(v.as_array().shape()));
      }
      dst = v.as_array();
    }
  }

  Module& set_frozen(const FreezeOptions& o, bool frozen) {
    auto one = [&](const std::string&, Module& m) {
      std::vector<std::string> keys = o.keys;
      if (keys.empty()) {
        for (auto& e : m.entries_)
          if ((e.kind == Kind::Param || e.kind == Kind::Optional) && !e.buffer) keys.push_back(e.name);
      }
      for (auto& k : keys) {
        auto it = std::find_if(m.entries_.begin(), m.entries_.end(), [&](const Entry& e) { return e.name == k; });
        const bool is_param = it != m.entries_.end() && (it->kind == Kind::Param || it->kind == Kind::Optional);
        if (!is_param) {
          if (o.strict) throw std::invalid_argument("[Module::" + std::string(frozen ? "freeze" : "unfreeze") + "] " +
                                                    m.name() + " has no parameter '" + k + "'");
          continue;
        }
        if (frozen) m.frozen_.insert(k);
        else m.frozen_.erase(k);
      }
    };
    if (o.recurse) apply_to_modules(one);
    else one("", *this);
    return *this;
  }

  std::vector<Entry> entries_;
  std::set<std::string> frozen_;
  bool training_ = true;
};

// MLX's nn.value_and_grad: a function of `fn`'s arguments that returns fn's value and the
// gradient of its (first) output with respect to the model's trainable parameters, as a Tree
// shaped like trainable_parameters(). `fn` reads the model (captured by reference); it returns
// an array (the loss) or a std::vector<array> whose first entry is the loss.
template <typename F>
auto value_and_grad(Module& model, F fn) {
  return [&model, fn](auto&&... args) {
    const Tree params = model.trainable_parameters();
    const auto flat = tree::flatten_arrays(params);
    if (flat.empty()) throw std::invalid_argument("[nn::value_and_grad] " + model.name() + " has no trainable parameters");
    std::vector<array> primals;
    std::vector<int> argnums;
    for (auto& [k, v] : flat) {
      argnums.push_back(static_cast<int>(primals.size()));
      primals.push_back(v);
    }
    auto rebuild = [&](const std::vector<array>& xs) {
      std::vector<std::pair<std::string, array>> items;
      for (size_t i = 0; i < flat.size(); ++i) items.emplace_back(flat[i].first, xs[i]);
      return tree::unflatten(items);
    };
    using Result = decltype(fn(args...));
    const ArrayFn inner = [&](const std::vector<array>& xs) -> std::vector<array> {
      model.update(rebuild(xs), false);
      // One return after the branches: GCC 12 warns of a missing return otherwise.
      std::vector<array> result;
      if constexpr (std::is_same_v<std::decay_t<Result>, std::vector<array>>) {
        result = fn(args...);
      } else {
        result.push_back(array(fn(args...)));
      }
      return result;
    };
    auto restore = [&] { model.update(params, false); };
    std::pair<std::vector<array>, std::vector<array>> out;
    try {
      out = tessera::value_and_grad(inner, argnums)(primals);
    } catch (...) {
      restore();
      throw;
    }
    restore();
    Tree grads = rebuild(out.second);
    if constexpr (std::is_same_v<std::decay_t<Result>, std::vector<array>>) {
      return std::make_pair(std::move(out.first), std::move(grads));
    } else {
      return std::make_pair(std::move(out.first[0]), std::move(grads));
    }
  };
}

}  // namespace tessera::nn
