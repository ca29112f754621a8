// einsum and einsum_path (ops/einsum.hpp): the subscripts are parsed and checked against the
// operands, a contraction order is searched with a FLOP cost model, and each step is carried out
// with transposes, reshapes, sums and one matmul (broadcast multiplies for outer products, and
// for integer operands, which matmul does not take). Nothing here has a kernel.
#include "tessera/ops/einsum.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/matmul.hpp"
#include "tessera/ops/rearrange.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"

namespace tessera {

namespace {

// Sets of subscript letters as bits: a-z are bits 0-25, A-Z bits 26-51.
using Letters = uint64_t;

int letter_bit(char c) { return c >= 'a' && c <= 'z' ? c - 'a' : 26 + (c - 'A'); }
char bit_letter(int b) { return static_cast<char>(b < 26 ? 'a' + b : 'A' + (b - 26)); }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
Letters letter_set(const std::string& term) {
  Letters set = 0;
  for (char c : term) set |= Letters{1} << letter_bit(c);
  return set;
}
int popcount(Letters x) { return __builtin_popcountll(x); }
std::string set_string(Letters set) {
  std::string out;
  for (int b = 0; b < 52; ++b)
    if (set >> b & 1) out += bit_letter(b);
  std::sort(out.begin(), out.end());
  return out;
}

// The parsed expression: every term with its ellipsis replaced by letters of its own (one per
// dimension), and the size of each letter (broadcast over the terms).
struct Expression {
  std::string text;                 // the subscripts without spaces, for messages
  std::vector<std::string> inputs;  // one letter per operand dimension
  std::string output;
  double size[52] = {};             // the broadcast size of each letter
  int64_t extent[52] = {};          // the same, exact
};

struct Fail {
  const char* fn;
  [[noreturn]] void operator()(const std::string& msg) const {
    throw std::invalid_argument(std::string("[") + fn + "] " + msg);
  }
};

// A term's letters and where its ellipsis was (-1: none), characters checked.
struct Term {
  std::string letters;
  int ellipsis = -1;
};
Term parse_term(const std::string& term, const std::string& what, const Fail& fail) {
  Term t;
  for (size_t i = 0; i < term.size(); ++i) {
    const char c = term[i];
    if (is_letter(c)) {
      t.letters += c;
      continue;
    }
    if (c == '.') {
      if (term.compare(i, 3, "...") != 0) {
        fail("a '.' that is not part of an ellipsis '...' in " + what + " '" + term + "'");
      }
      if (t.ellipsis >= 0) fail("more than one ellipsis in " + what + " '" + term + "'");
      t.ellipsis = static_cast<int>(t.letters.size());
      i += 2;
      continue;
    }
    const std::string shown = std::isprint(static_cast<unsigned char>(c))
                                  ? std::string(1, c)
                                  : "code " + std::to_string(static_cast<unsigned char>(c));
    fail("invalid character '" + shown + "' in " + what + " '" + term +
         "' (subscripts are letters a-z and A-Z, and one '...' per term)");
  }
  return t;
}

Expression parse(const std::string& subscripts, const std::vector<array>& operands, const Fail& fail) {
  Expression e;
  for (char c : subscripts)
    if (!std::isspace(static_cast<unsigned char>(c))) e.text += c;
  if (operands.empty()) fail("at least one operand is required (subscripts '" + e.text + "')");
  const size_t arrow = e.text.find("->");
  const bool explicit_output = arrow != std::string::npos;
  const std::string lhs = explicit_output ? e.text.substr(0, arrow) : e.text;
  const std::string rhs = explicit_output ? e.text.substr(arrow + 2) : "";
  if (rhs.find("->") != std::string::npos) fail("more than one '->' in '" + e.text + "'");

  std::vector<std::string> raw;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    raw.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (raw.size() != operands.size()) {
    fail("the subscripts '" + e.text + "' have " + std::to_string(raw.size()) + " input term" +
         (raw.size() == 1 ? "" : "s") + " but " + std::to_string(operands.size()) + " operand" +
         (operands.size() == 1 ? " was" : "s were") + " given");
  }

  std::vector<Term> terms;
  Letters used = 0;
  int ellipsis_dims = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    Term t = parse_term(raw[i], "input term", fail);
    const int nd = operands[i].ndim(), named = static_cast<int>(t.letters.size());
    if (t.ellipsis < 0 && named != nd) {
      fail("input term '" + raw[i] + "' has " + std::to_string(named) + " subscript" + (named == 1 ? "" : "s") +
           " but operand " + std::to_string(i) + " has " + std::to_string(nd) + " dimension" + (nd == 1 ? "" : "s") +
           " (shape " + shape_string(operands[i].shape()) + ")");
    }
    if (t.ellipsis >= 0 && named > nd) {
      fail("input term '" + raw[i] + "' names " + std::to_string(named) + " dimensions besides its ellipsis but operand " +
           std::to_string(i) + " has only " + std::to_string(nd) + " (shape " + shape_string(operands[i].shape()) + ")");
    }
    if (t.ellipsis >= 0) ellipsis_dims = std::max(ellipsis_dims, nd - named);
    used |= letter_set(t.letters);
    terms.push_back(std::move(t));
  }
  Term out_term;
  if (explicit_output) out_term = parse_term(rhs, "output", fail);

  // Letters for the ellipsis dimensions: unused ones, right-aligned per operand (broadcasting).
  std::string spare;
  for (int b = 0; b < 52 && static_cast<int>(spare.size()) < ellipsis_dims; ++b)
    if (!(used >> b & 1)) spare += bit_letter(b);
  if (static_cast<int>(spare.size()) < ellipsis_dims) {
    fail("the ellipsis stands for " + std::to_string(ellipsis_dims) + " dimensions but only " +
         std::to_string(spare.size()) + " letters are left unused in '" + e.text + "'");
  }
  for (size_t i = 0; i < terms.size(); ++i) {
    std::string s = terms[i].letters;
    if (terms[i].ellipsis >= 0) {
      const int len = operands[i].ndim() - static_cast<int>(s.size());
      s.insert(terms[i].ellipsis, spare.substr(spare.size() - len));
    }
    e.inputs.push_back(s);
  }

  // The output.
  int counts[52] = {};
  for (auto& t : terms)
    for (char c : t.letters) ++counts[letter_bit(c)];
  if (explicit_output) {
    Letters seen = 0;
    for (char c : out_term.letters) {
      const Letters bit = Letters{1} << letter_bit(c);
      if (!(used & bit)) fail("output subscript '" + std::string(1, c) + "' of '" + rhs + "' is in no input term");
      if (seen & bit) fail("output subscript '" + std::string(1, c) + "' is repeated in the output '" + rhs + "'");
      seen |= bit;
    }
    e.output = out_term.letters;
    if (out_term.ellipsis >= 0) e.output.insert(out_term.ellipsis, spare);
  } else {
    e.output = spare;
    std::string once;
    for (int b = 0; b < 52; ++b)
      if (counts[b] == 1) once += bit_letter(b);
    std::sort(once.begin(), once.end());  // ASCII: upper case before lower case, as NumPy
    e.output += once;
  }

  // Sizes: equal within a term, broadcast (1 against n) across terms.
  for (int b = 0; b < 52; ++b) e.extent[b] = -1;
  for (size_t i = 0; i < e.inputs.size(); ++i) {
    const std::string& s = e.inputs[i];
    for (size_t ax = 0; ax < s.size(); ++ax) {
      const int b = letter_bit(s[ax]);
      const int64_t d = operands[i].shape(static_cast<int>(ax));
      for (size_t prev = 0; prev < ax; ++prev) {
        if (s[prev] == s[ax] && operands[i].shape(static_cast<int>(prev)) != d) {
          fail("subscript '" + std::string(1, s[ax]) + "' repeated in input term '" + raw[i] + "' labels dimensions of sizes " +
               std::to_string(operands[i].shape(static_cast<int>(prev))) + " and " + std::to_string(d) +
               " of operand " + std::to_string(i) + " (shape " + shape_string(operands[i].shape()) + ")");
        }
      }
      int64_t& have = e.extent[b];
      if (have < 0 || have == 1) {
        have = d;
      } else if (d != 1 && d != have) {
        const bool from_ellipsis = terms[i].letters.find(s[ax]) == std::string::npos;
        fail("size " + std::to_string(d) + " of " +
             (from_ellipsis ? std::string("an ellipsis dimension") : "subscript '" + std::string(1, s[ax]) + "'") +
             " in input term '" + raw[i] + "' (operand " + std::to_string(i) + ", shape " +
             shape_string(operands[i].shape()) + ") does not match its size " + std::to_string(have) +
             " in an earlier term and cannot be broadcast");
      }
    }
  }
  for (int b = 0; b < 52; ++b) e.size[b] = static_cast<double>(std::max<int64_t>(e.extent[b], 0));
  return e;
}

// ---------------------------------------------------------------------------------------------
// The contraction order.

double set_size(Letters set, const Expression& e) {
  double n = 1;
  for (int b = 0; b < 52; ++b)
    if (set >> b & 1) n *= e.size[b];
  return n;
}
double term_size(const std::string& term, const Expression& e) {  // repeated letters count again
  double n = 1;
  for (char c : term) n *= e.size[letter_bit(c)];
  return n;
}

// One step: contracting `group` (positions in `remaining`) keeps the letters any other operand
// or the output needs.
struct Step {
  Letters involved = 0, result = 0;
  double flops = 0;
};
Step evaluate(const std::vector<Letters>& remaining, const std::vector<int>& group, Letters output,
              const Expression& e) {
  Step st;
  Letters others = output;
  for (size_t i = 0; i < remaining.size(); ++i) {
    if (std::find(group.begin(), group.end(), static_cast<int>(i)) != group.end()) {
      st.involved |= remaining[i];
    } else {
      others |= remaining[i];
    }
  }
  st.result = st.involved & others;
  const bool summed = st.involved != st.result;
  const double terms = static_cast<double>(std::max<size_t>(1, group.size() - 1));
  st.flops = set_size(st.involved, e) * (terms + (summed ? 1 : 0));
  return st;
}

std::vector<Letters> after(const std::vector<Letters>& remaining, int i, int j, Letters result) {
  std::vector<Letters> next;
  for (size_t k = 0; k < remaining.size(); ++k)
    if (static_cast<int>(k) != i && static_cast<int>(k) != j) next.push_back(remaining[k]);
  next.push_back(result);
  return next;
}

constexpr size_t kExhaustiveOperands = 6;

// Every order of pairwise steps, depth first in lexicographic order of the pairs, intermediates
// larger than `limit` skipped. The best is the one reaching furthest (all operands, unless the
// limit stops every order earlier), then the cheapest, then the first found: NumPy's "optimal".
std::vector<std::vector<int>> optimal_path(const std::vector<Letters>& inputs, Letters output, double limit,
                                           const Expression& e) {
  const int full = static_cast<int>(inputs.size()) - 1;
  int best_depth = -1;
  double best_cost = std::numeric_limits<double>::infinity();
  std::vector<std::vector<int>> best, current;
  std::function<void(const std::vector<Letters>&, double)> search = [&](const std::vector<Letters>& rem,
                                                                        double cost) {
    bool extended = false;
    const int n = static_cast<int>(rem.size());
    for (int i = 0; i < n; ++i) {
      for (int j = i + 1; j < n; ++j) {
        const Step st = evaluate(rem, {i, j}, output, e);
        if (set_size(st.result, e) > limit) continue;
        extended = true;
        const double total = cost + st.flops;
        if (best_depth == full && total >= best_cost) continue;  // cannot do better
        current.push_back({i, j});
        search(after(rem, i, j, st.result), total);
        current.pop_back();
      }
    }
    if (extended) return;
    const int depth = static_cast<int>(current.size());
    if (depth > best_depth || (depth == best_depth && cost < best_cost)) {
      best_depth = depth;
      best_cost = cost;
      best = current;
    }
  };
  search(inputs, 0);
  const int left = static_cast<int>(inputs.size()) - best_depth;
  if (left > 1) {  // the memory limit stopped every order: the rest in one step
    std::vector<int> all(left);
    for (int k = 0; k < left; ++k) all[k] = k;
    best.push_back(all);
  }
  return best;
}

// Step by step, the pair whose contraction removes the most elements (then the cheapest, then the
// first), pairs sharing a letter before outer products; within the memory limit and the naive cost.
std::vector<std::vector<int>> greedy_path(std::vector<Letters> rem, Letters output, double limit, double naive,
                                          const Expression& e) {
  std::vector<std::vector<int>> path;
  double spent = 0;
  while (rem.size() > 1) {
    const int n = static_cast<int>(rem.size());
    int bi = -1, bj = -1;
    double best_removed = 0, best_flops = 0;
    Step best_step;
    for (int pass = 0; pass < 2 && bi < 0; ++pass) {
      for (int i = 0; i < n; ++i) {
        for (int j = i + 1; j < n; ++j) {
          if (pass == 0 && !(rem[i] & rem[j])) continue;  // outer products only when nothing else is left
          const Step st = evaluate(rem, {i, j}, output, e);
          const double size = set_size(st.result, e);
          if (size > limit || spent + st.flops > naive) continue;
          const double removed = set_size(rem[i], e) + set_size(rem[j], e) - size;
          if (bi < 0 || removed > best_removed || (removed == best_removed && st.flops < best_flops)) {
            bi = i, bj = j, best_removed = removed, best_flops = st.flops, best_step = st;
          }
        }
      }
    }
    if (bi < 0) {
      std::vector<int> all(n);
      for (int k = 0; k < n; ++k) all[k] = k;
      path.push_back(all);
      break;
    }
    path.push_back({bi, bj});
    spent += best_step.flops;
    rem = after(rem, bi, bj, best_step.result);
  }
  return path;
}

struct Plan {
  Expression expr;
  std::vector<std::vector<int>> path;
};

Plan plan(const std::string& subscripts, const std::vector<array>& operands, const char* fn) {
  const Fail fail{fn};
  Plan p{parse(subscripts, operands, fail), {}};
  const Expression& e = p.expr;
  std::vector<Letters> sets;
  Letters all = 0;
  double limit = term_size(e.output, e);
  for (auto& t : e.inputs) {
    sets.push_back(letter_set(t));
    all |= sets.back();
    limit = std::max(limit, term_size(t, e));
  }
  const Letters output = letter_set(e.output);
  const size_t n = sets.size();
  if (n <= 2 || all == output) {
    std::vector<int> every(n);
    for (size_t k = 0; k < n; ++k) every[k] = static_cast<int>(k);
    p.path = {every};
  } else if (n <= kExhaustiveOperands) {
    p.path = optimal_path(sets, output, limit, e);
  } else {
    std::vector<int> every(n);
    for (size_t k = 0; k < n; ++k) every[k] = static_cast<int>(k);
    p.path = greedy_path(sets, output, limit, evaluate(sets, every, output, e).flops, e);
  }
  return p;
}

std::string count_string(double v) {
  char buf[64];
  if (v < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.3e", v);
  return buf;
}

std::string path_string(const std::vector<std::vector<int>>& path) {
  std::string s = "[";
  for (size_t k = 0; k < path.size(); ++k) {
    s += k ? ", [" : "[";
    for (size_t i = 0; i < path[k].size(); ++i) s += (i ? ", " : "") + std::to_string(path[k][i]);
    s += "]";
  }
  return s + "]";
}

std::string report(const Plan& p) {
  const Expression& e = p.expr;
  std::vector<Letters> rem;
  std::vector<std::string> names = e.inputs;
  Letters all = 0;
  for (auto& t : e.inputs) rem.push_back(letter_set(t)), all |= rem.back();
  const Letters output = letter_set(e.output);
  std::vector<int> every(rem.size());
  for (size_t k = 0; k < rem.size(); ++k) every[k] = static_cast<int>(k);
  const Step naive = evaluate(rem, every, output, e);

  struct Line {
    int scaling;
    double flops;
    std::string contraction, remaining;
  };
  std::vector<Line> lines;
  double total = 0, largest = 0;
  int scaling = 0;
  for (size_t k = 0; k < p.path.size(); ++k) {
    const auto& group = p.path[k];
    const Step st = evaluate(rem, group, output, e);
    const bool last = k + 1 == p.path.size();
    const std::string result = last ? e.output : set_string(st.result);
    std::string lhs;
    for (size_t i = 0; i < group.size(); ++i) lhs += (i ? "," : "") + names[group[i]];
    std::vector<Letters> next_rem;
    std::vector<std::string> next_names;
    for (size_t i = 0; i < rem.size(); ++i) {
      if (std::find(group.begin(), group.end(), static_cast<int>(i)) != group.end()) continue;
      next_rem.push_back(rem[i]);
      next_names.push_back(names[i]);
    }
    next_rem.push_back(st.result);
    next_names.push_back(result);
    rem = std::move(next_rem);
    names = std::move(next_names);
    std::string remaining;
    for (size_t i = 0; i < names.size(); ++i) remaining += (i ? "," : "") + names[i];
    lines.push_back({popcount(st.involved), st.flops, lhs + "->" + result, remaining + "->" + e.output});
    total += st.flops;
    largest = std::max(largest, set_size(st.result, e));
    scaling = std::max(scaling, popcount(st.involved));
  }

  std::string expr;
  for (size_t i = 0; i < e.inputs.size(); ++i) expr += (i ? "," : "") + e.inputs[i];
  expr += "->" + e.output;
  std::ostringstream os;
  char speed[32];
  std::snprintf(speed, sizeof speed, "%.3f", total > 0 ? naive.flops / total : 1.0);
  os << "einsum contraction plan\n"
     << "  expression:            " << e.text << "\n";
  if (expr != e.text) os << "  with ellipsis/output:  " << expr << "\n";
  os << "  operands:              " << e.inputs.size() << "\n"
     << "  path:                  " << path_string(p.path) << "\n"
     << "  naive cost:            " << count_string(naive.flops) << " FLOPs, scaling " << popcount(naive.involved)
     << " (all operands at once)\n"
     << "  optimized cost:        " << count_string(total) << " FLOPs, scaling " << scaling << "\n"
     << "  speedup:               " << speed << "x\n"
     << "  largest intermediate:  " << count_string(largest) << " elements\n"
     << "  step  scaling            FLOPs  contraction -> operands left\n";
  for (size_t k = 0; k < lines.size(); ++k) {
    char head[64];
    std::snprintf(head, sizeof head, "  %4zu  %7d  %15s  ", k + 1, lines[k].scaling, count_string(lines[k].flops).c_str());
    os << head << lines[k].contraction << "  ->  " << lines[k].remaining << "\n";
  }
  return os.str();
}

// ---------------------------------------------------------------------------------------------
// Carrying out the path.

struct Labeled {
  array a;
  std::string letters;  // one per axis, distinct once prepared
};

std::vector<int> axes_of(const std::string& letters, const std::string& which) {
  std::vector<int> axes;
  for (char c : which) axes.push_back(static_cast<int>(letters.find(c)));
  return axes;
}

bool contains(const std::string& s, char c) { return s.find(c) != std::string::npos; }

// The letters of `x` not in `keep` summed away.
Labeled sum_except(Labeled x, const std::string& keep, StreamOrDevice s) {
  std::vector<int> axes;
  std::string left;
  for (size_t i = 0; i < x.letters.size(); ++i) {
    if (contains(keep, x.letters[i])) left += x.letters[i];
    else axes.push_back(static_cast<int>(i));
  }
  if (axes.empty()) return x;
  return {sum(x.a, axes, false, s), left};
}

// Repeated letters of a term replaced by their diagonal ("ii" -> "i").
Labeled take_diagonals(Labeled x, StreamOrDevice s) {
  for (;;) {
    int p1 = -1, p2 = -1;
    for (size_t i = 0; i < x.letters.size() && p1 < 0; ++i) {
      const size_t j = x.letters.find(x.letters[i], i + 1);
      if (j != std::string::npos) p1 = static_cast<int>(i), p2 = static_cast<int>(j);
    }
    if (p1 < 0) return x;
    const char c = x.letters[p1];
    x.a = diagonal(x.a, 0, p1, p2, s);  // the diagonal becomes the last axis
    x.letters.erase(p2, 1);
    x.letters.erase(p1, 1);
    x.letters += c;
  }
}

Shape sizes_of(const array& a, const std::vector<int>& axes) {
  Shape out;
  for (int ax : axes) out.push_back(a.shape(ax));
  return out;
}
int32_t product(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return static_cast<int32_t>(n);
}

bool matmul_dtype(Dtype t) {
  return t == float16 || t == bfloat16 || t == float32 || t == float64 || t == complex64;
}

// x and y contracted into the letters of `keep` they hold: shared letters kept are batch
// dimensions, shared letters not kept are summed by the matmul, the others are its rows and
// columns. Result letters: batch, then x's own, then y's own.
Labeled contract_pair(Labeled x, Labeled y, const std::string& keep, StreamOrDevice s) {
  x = sum_except(x, keep + y.letters, s);
  y = sum_except(y, keep + x.letters, s);
  std::string batch, inner, own_x, own_y;
  for (char c : x.letters) {
    if (!contains(y.letters, c)) own_x += c;
    else if (contains(keep, c)) batch += c;
    else inner += c;
  }
  for (char c : y.letters)
    if (!contains(x.letters, c)) own_y += c;
  // A summed letter of size 1 on one side only (broadcast): sum the other side first.
  std::string summed;
  for (char c : inner) {
    const int64_t dx = x.a.shape(static_cast<int>(x.letters.find(c)));
    const int64_t dy = y.a.shape(static_cast<int>(y.letters.find(c)));
    if (dx == dy) {
      summed += c;
      continue;
    }
    Labeled& one = dx == 1 ? x : y;
    Labeled& other = dx == 1 ? y : x;
    const int ax1 = static_cast<int>(one.letters.find(c)), ax2 = static_cast<int>(other.letters.find(c));
    one.a = squeeze(one.a, ax1, s);
    one.letters.erase(ax1, 1);
    other.a = sum(other.a, ax2, false, s);
    other.letters.erase(ax2, 1);
  }
  inner = summed;

  const Dtype t = promote_types(x.a.dtype(), y.a.dtype());
  const std::string out_letters = batch + own_x + own_y;
  const int nb = static_cast<int>(batch.size());
  const Shape bx = sizes_of(x.a, axes_of(x.letters, batch)), by = sizes_of(y.a, axes_of(y.letters, batch));
  const Shape fx = sizes_of(x.a, axes_of(x.letters, own_x)), fy = sizes_of(y.a, axes_of(y.letters, own_y));
  const Shape kx = sizes_of(x.a, axes_of(x.letters, inner));

  if (!inner.empty() && matmul_dtype(t)) {
    // x: (batch..., M, K) @ y: (batch..., K, N), batch dimensions broadcast by matmul.
    array xm = transpose(x.a.dtype() == t ? x.a : astype(x.a, t, s), axes_of(x.letters, batch + own_x + inner), s);
    array ym = transpose(y.a.dtype() == t ? y.a : astype(y.a, t, s), axes_of(y.letters, batch + inner + own_y), s);
    Shape sx = bx, sy = by;
    sx.insert(sx.end(), {product(fx), product(kx)});
    sy.insert(sy.end(), {product(kx), product(fy)});
    array prod = matmul(reshape(xm, sx, s), reshape(ym, sy, s), s);
    Shape out(prod.shape().begin(), prod.shape().begin() + nb);
    out.insert(out.end(), fx.begin(), fx.end());
    out.insert(out.end(), fy.begin(), fy.end());
    return {reshape(prod, out, s), out_letters};
  }
  // Broadcast multiply: (batch, own_x, 1..., inner) * (batch, 1..., own_y, inner), inner summed.
  Shape sx = bx, sy = by;
  sx.insert(sx.end(), fx.begin(), fx.end());
  sx.insert(sx.end(), fy.size(), 1);
  sx.insert(sx.end(), kx.begin(), kx.end());
  sy.insert(sy.end(), fx.size(), 1);
  sy.insert(sy.end(), fy.begin(), fy.end());
  sy.insert(sy.end(), kx.begin(), kx.end());
  array xb = reshape(transpose(x.a, axes_of(x.letters, batch + own_x + inner), s), sx, s);
  array yb = reshape(transpose(y.a, axes_of(y.letters, batch + own_y + inner), s), sy, s);
  array prod = multiply(xb, yb, s);
  if (!inner.empty()) {
    std::vector<int> axes;
    for (size_t k = 0; k < inner.size(); ++k) axes.push_back(prod.ndim() - 1 - static_cast<int>(k));
    prod = sum(prod, axes, false, s);
  }
  return {prod, out_letters};
}

}  // namespace

std::pair<std::vector<std::vector<int>>, std::string> einsum_path(const std::string& subscripts,
                                                                  const std::vector<array>& operands) {
  Plan p = plan(subscripts, operands, "einsum_path");
  std::string text = report(p);
  return {std::move(p.path), std::move(text)};
}

array einsum(const std::string& subscripts, const std::vector<array>& operands, StreamOrDevice s) {
  const Plan p = plan(subscripts, operands, "einsum");
  const Expression& e = p.expr;

  // Diagonals first, then the letters only one operand has and the output lacks.
  std::vector<Labeled> ops;
  for (size_t i = 0; i < operands.size(); ++i) ops.push_back(take_diagonals({operands[i], e.inputs[i]}, s));
  for (size_t i = 0; i < ops.size(); ++i) {
    std::string needed = e.output;
    for (size_t j = 0; j < ops.size(); ++j)
      if (j != i) needed += ops[j].letters;
    ops[i] = sum_except(ops[i], needed, s);
  }

  for (const auto& group : p.path) {
    std::vector<Labeled> members;
    for (int pos : group) members.push_back(ops[pos]);
    std::vector<int> sorted = group;
    std::sort(sorted.rbegin(), sorted.rend());
    for (int pos : sorted) ops.erase(ops.begin() + pos);
    std::string outside = e.output;
    for (auto& o : ops) outside += o.letters;
    // A step of several operands is carried out pair by pair, left to right.
    Labeled acc = members[0];
    for (size_t k = 1; k < members.size(); ++k) {
      std::string keep = outside;
      for (size_t r = k + 1; r < members.size(); ++r) keep += members[r].letters;
      acc = contract_pair(acc, members[k], keep, s);
    }
    ops.push_back(sum_except(acc, outside, s));
  }

  Labeled result = ops.back();
  array out = transpose(result.a, axes_of(result.letters, e.output), s);
  Shape shape;
  for (char c : e.output) shape.push_back(static_cast<int32_t>(std::max<int64_t>(e.extent[letter_bit(c)], 0)));
  if (out.shape() != shape) out = broadcast_to(out, shape, s);
  return out;
}

}  // namespace tessera
