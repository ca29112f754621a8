#pragma once
// Parameter trees, as MLX's Python trees (nested dicts and lists of arrays) and its
// mlx.utils.tree_* functions: a model's parameters, its gradients and an optimizer's state are
// all Trees of the same shape, and the functions below walk them together.
//
// A Tree is a small value: empty, one array (a leaf), a list of Trees, or a dict of named Trees
// kept in insertion order (as Python's dicts, so flattening is deterministic and follows the
// order in which a module registered its members). Paths are dotted: `layers.0.weight`, list
// positions as numbers.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/expr/expr.hpp"

namespace tessera {

class Tree {
 public:
  using List = std::vector<Tree>;
  using Dict = std::vector<std::pair<std::string, Tree>>;

  Tree() = default;
  Tree(array a) : v_(std::move(a)) {}
  Tree(List l) : v_(std::move(l)) {}
  Tree(Dict d) : v_(std::move(d)) {}
  template <typename E>
    requires is_expr_v<E>
  Tree(const E& e) : v_(array(e)) {}

  static Tree dict(Dict d = {}) { return Tree(std::move(d)); }
  static Tree list(List l = {}) { return Tree(std::move(l)); }

  bool empty() const { return std::holds_alternative<std::monostate>(v_); }
  bool is_array() const { return std::holds_alternative<array>(v_); }
  bool is_list() const { return std::holds_alternative<List>(v_); }
  bool is_dict() const { return std::holds_alternative<Dict>(v_); }

  const array& as_array() const { return get<array>("an array"); }
  array& as_array() { return get<array>("an array"); }
  const List& as_list() const { return get<List>("a list"); }
  List& as_list() { return get<List>("a list"); }
  const Dict& as_dict() const { return get<Dict>("a dict"); }
  Dict& as_dict() { return get<Dict>("a dict"); }

  // Dict access. operator[] inserts an empty entry for a new key (an empty Tree becomes a dict);
  // at() throws std::out_of_range naming the key.
  Tree& operator[](const std::string& key) {
    if (empty()) v_ = Dict{};
    Dict& d = as_dict();
    for (auto& [k, v] : d)
      if (k == key) return v;
    d.emplace_back(key, Tree());
    return d.back().second;
  }
  const Tree& at(const std::string& key) const {
    if (const Tree* t = find(key)) return *t;
    throw std::out_of_range("[Tree] no entry '" + key + "'");
  }
  Tree& at(const std::string& key) { return const_cast<Tree&>(std::as_const(*this).at(key)); }
  const Tree* find(const std::string& key) const {
    if (!is_dict()) return nullptr;
    for (auto& [k, v] : as_dict())
      if (k == key) return &v;
    return nullptr;
  }
  bool contains(const std::string& key) const { return find(key) != nullptr; }

  // List access, bounds-checked.
  const Tree& operator[](size_t i) const { return at_index(i); }
  Tree& operator[](size_t i) { return const_cast<Tree&>(std::as_const(*this).at_index(i)); }

  // Entries of a dict or list (0 for a leaf or an empty Tree).
  size_t size() const { return is_dict() ? as_dict().size() : is_list() ? as_list().size() : 0; }

  // The subtree at a dotted path ("layers.0.weight"); nullptr when absent.
  const Tree* find_path(const std::string& path) const {
    const Tree* t = this;
    size_t start = 0;
    while (t && start <= path.size()) {
      if (path.empty()) return t;
      const size_t dot = path.find('.', start);
      const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (t->is_dict()) {
        t = t->find(part);
      } else if (t->is_list()) {
        const auto i = parse_index(part);
        t = i && *i < t->as_list().size() ? &t->as_list()[*i] : nullptr;
      } else {
        return nullptr;
      }
      if (dot == std::string::npos) return t;
      start = dot + 1;
    }
    return t;
  }

  // A list position written as a path component ("0", "12"); nullopt for anything else.
  static std::optional<size_t> parse_index(const std::string& s) {
    if (s.empty() || s.size() > 9) return std::nullopt;
    size_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<size_t>(c - '0');
    }
    return v;
  }

 private:
  template <typename T>
  const T& get(const char* what) const {
    if (auto* p = std::get_if<T>(&v_)) return *p;
    throw std::invalid_argument(std::string("[Tree] expected ") + what + ", found " + kind());
  }
  template <typename T>
  T& get(const char* what) {
    return const_cast<T&>(std::as_const(*this).get<T>(what));
  }
  const Tree& at_index(size_t i) const {
    const List& l = as_list();
    if (i >= l.size()) {
      throw std::out_of_range("[Tree] index " + std::to_string(i) + " past a list of " + std::to_string(l.size()));
    }
    return l[i];
  }

 public:
  const char* kind() const { return empty() ? "an empty tree" : is_array() ? "an array" : is_list() ? "a list" : "a dict"; }

 private:
  std::variant<std::monostate, array, List, Dict> v_;
};

namespace tree {

using IsLeaf = std::function<bool(const Tree&)>;

namespace detail {
inline std::string join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}
template <typename F>
void walk(const Tree& t, const std::string& path, const IsLeaf& is_leaf, F&& visit) {
  if (t.is_array() || t.empty() || (is_leaf && is_leaf(t))) {
    visit(path, t);
  } else if (t.is_list()) {
    for (size_t i = 0; i < t.as_list().size(); ++i) walk(t.as_list()[i], join(path, std::to_string(i)), is_leaf, visit);
  } else {
    for (auto& [k, v] : t.as_dict()) walk(v, join(path, k), is_leaf, visit);
  }
}
// The subtree of `other` standing where `path` stands in the tree being mapped.
inline const Tree& matching(const Tree& other, const std::string& path, const char* fn) {
  if (const Tree* t = other.find_path(path)) return *t;
  throw std::invalid_argument(std::string("[") + fn + "] a tree lacks the entry '" + path +
                              "' that the first tree has (the trees must share its structure)");
}
}  // namespace detail

// (path, leaf) pairs in order: arrays, empty entries, and subtrees that `is_leaf` accepts.
// MLX's tree_flatten; `prefix` starts every path (MLX drops its leading dot: here there is none).
inline std::vector<std::pair<std::string, Tree>> flatten(const Tree& t, const std::string& prefix = "",
                                                         const IsLeaf& is_leaf = {}) {
  std::vector<std::pair<std::string, Tree>> out;
  detail::walk(t, prefix, is_leaf, [&](const std::string& p, const Tree& leaf) {
    if (!leaf.empty()) out.emplace_back(p, leaf);
  });
  return out;
}
// The arrays of a tree with their paths (the form weights files and optimizers use).
inline std::vector<std::pair<std::string, array>> flatten_arrays(const Tree& t, const std::string& prefix = "") {
  std::vector<std::pair<std::string, array>> out;
  detail::walk(t, prefix, {}, [&](const std::string& p, const Tree& leaf) {
    if (leaf.is_array()) out.emplace_back(p, leaf.as_array());
  });
  return out;
}
inline std::vector<array> leaves(const Tree& t) {
  std::vector<array> out;
  detail::walk(t, "", {}, [&](const std::string&, const Tree& leaf) {
    if (leaf.is_array()) out.push_back(leaf.as_array());
  });
  return out;
}

// Rebuilds a tree from (dotted path, value) pairs: MLX's tree_unflatten. A level whose keys
// are all numbers becomes a list.
inline Tree unflatten(const std::vector<std::pair<std::string, Tree>>& items) {
  // Build dicts first, then turn all-numeric dicts into lists, bottom up.
  Tree root = Tree::dict();
  for (auto& [path, value] : items) {
    if (path.empty()) throw std::invalid_argument("[tree::unflatten] an empty path");
    Tree* t = &root;
    size_t start = 0;
    while (true) {
      const size_t dot = path.find('.', start);
      const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (part.empty()) throw std::invalid_argument("[tree::unflatten] the path '" + path + "' has an empty part");
      if (!t->empty() && !t->is_dict()) {
        throw std::invalid_argument("[tree::unflatten] the path '" + path + "' goes through a leaf");
      }
      Tree& next = (*t)[part];
      if (dot == std::string::npos) {
        if (!next.empty()) throw std::invalid_argument("[tree::unflatten] the path '" + path + "' appears twice");
        next = value;
        break;
      }
      t = &next;
      start = dot + 1;
    }
  }
  std::function<Tree(Tree)> listify = [&](Tree t) -> Tree {
    if (!t.is_dict()) return t;
    Tree::Dict& d = t.as_dict();
    bool numeric = !d.empty();
    for (auto& [k, v] : d) {
      v = listify(std::move(v));
      numeric = numeric && Tree::parse_index(k).has_value();
    }
    if (!numeric) return t;
    // As MLX: positions missing between the ones present become empty dicts (a parameter-less
    // module inside a list).
    size_t n = 0;
    for (auto& [k, v] : d) n = std::max(n, *Tree::parse_index(k) + 1);
    if (n > (size_t{1} << 20)) {  // a weights file's names must not size a huge list
      throw std::invalid_argument("[tree::unflatten] list position " + std::to_string(n - 1) + " is too large");
    }
    Tree::List l(n, Tree::dict());
    for (auto& [k, v] : d) l[*Tree::parse_index(k)] = std::move(v);
    return Tree(std::move(l));
  };
  return listify(std::move(root));
}
inline Tree unflatten(const std::vector<std::pair<std::string, array>>& items) {
  std::vector<std::pair<std::string, Tree>> t;
  t.reserve(items.size());
  for (auto& [k, v] : items) t.emplace_back(k, Tree(v));
  return unflatten(t);
}

// fn(path, leaf, leaves of `rest` at the same path...) for every array leaf of `t`; the result
// has t's structure. MLX's tree_map_with_path; `rest` trees must contain t's structure.
template <typename F, typename... Rest>
Tree map_with_path(F&& fn, const Tree& t, const Rest&... rest) {
  std::function<Tree(const Tree&, const std::string&)> go = [&](const Tree& node, const std::string& path) -> Tree {
    if (node.is_array()) {
      return Tree(fn(path, node.as_array(), detail::matching(rest, path, "tree::map").as_array()...));
    }
    if (node.is_list()) {
      Tree::List l;
      for (size_t i = 0; i < node.as_list().size(); ++i) l.push_back(go(node.as_list()[i], detail::join(path, std::to_string(i))));
      return Tree(std::move(l));
    }
    if (node.is_dict()) {
      Tree::Dict d;
      for (auto& [k, v] : node.as_dict()) d.emplace_back(k, go(v, detail::join(path, k)));
      return Tree(std::move(d));
    }
    return Tree();
  };
  return go(t, "");
}
// fn(leaf, leaves of `rest`...): MLX's tree_map.
template <typename F, typename... Rest>
Tree map(F&& fn, const Tree& t, const Rest&... rest) {
  return map_with_path([&](const std::string&, const array& a, const auto&... r) { return fn(a, r...); }, t, rest...);
}

// Folds fn(accumulator, leaf) over the array leaves in order: MLX's tree_reduce.
template <typename T, typename F>
T reduce(F&& fn, const Tree& t, T initial) {
  for (auto& a : leaves(t)) initial = fn(std::move(initial), a);
  return initial;
}

// The union of two trees with no leaf in common: MLX's tree_merge.
inline Tree merge(const Tree& a, const Tree& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  if (a.is_dict() && b.is_dict()) {
    Tree out = a;
    for (auto& [k, v] : b.as_dict()) {
      Tree& slot = out[k];
      slot = merge(slot, v);
    }
    return out;
  }
  if (a.is_list() && b.is_list()) {
    Tree::List out = a.as_list();
    const Tree::List& other = b.as_list();
    if (other.size() > out.size()) out.resize(other.size());
    for (size_t i = 0; i < other.size(); ++i) out[i] = merge(out[i], other[i]);
    return Tree(std::move(out));
  }
  throw std::invalid_argument(std::string("[tree::merge] cannot merge ") + a.kind() + " with " + b.kind() +
                              " (the trees overlap)");
}

}  // namespace tree
}  // namespace tessera
