#pragma once
// The training curves: one row per epoch, written as CSV always and drawn as a PNG with Cairo
// when the build found it (TESSERA_EXAMPLES_HAVE_CAIRO). Left panel: training loss; right:
// training and test accuracy.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef TESSERA_EXAMPLES_HAVE_CAIRO
#include <cairo.h>
#endif

namespace examples {

struct EpochRecord {
  int epoch;
  double train_loss, train_accuracy, test_accuracy, seconds;
};

inline void write_csv(const std::string& path, const std::vector<EpochRecord>& rows) {
  std::ofstream f(path);
  if (!f) throw std::runtime_error("cannot write " + path);
  f << "epoch,train_loss,train_accuracy,test_accuracy,seconds\n";
  for (const auto& r : rows) {
    f << r.epoch << ',' << r.train_loss << ',' << r.train_accuracy << ',' << r.test_accuracy << ',' << r.seconds
      << '\n';
  }
  if (!f) throw std::runtime_error("error writing " + path);
}

#ifdef TESSERA_EXAMPLES_HAVE_CAIRO
namespace detail {

struct Series {
  std::vector<double> y;
  double r, g, b;
  const char* label;
};

// One panel: axes with tick labels at (x0, y0) of size w x h, and the series over the epochs.
inline void draw_panel(cairo_t* cr, double x0, double y0, double w, double h, const char* title,
                       const std::vector<Series>& series, bool percent) {
  double lo = 1e300, hi = -1e300;
  size_t n = 0;
  for (const auto& s : series) {
    for (double v : s.y) lo = std::min(lo, v), hi = std::max(hi, v);
    n = std::max(n, s.y.size());
  }
  if (hi - lo < 1e-9) lo -= 0.5, hi += 0.5;
  const double pad = 0.05 * (hi - lo);
  lo -= pad, hi += pad;
  const double left = x0 + 60, right = x0 + w - 15, top = y0 + 35, bottom = y0 + h - 40;
  auto px = [&](double i) { return n > 1 ? left + (right - left) * i / (n - 1) : (left + right) / 2; };
  auto py = [&](double v) { return bottom - (bottom - top) * (v - lo) / (hi - lo); };

  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(cr, 15);
  cairo_move_to(cr, left, y0 + 22);
  cairo_show_text(cr, title);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 11);

  // Grid and y ticks.
  char text[32];
  for (int t = 0; t <= 4; ++t) {
    const double v = lo + (hi - lo) * t / 4;
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_move_to(cr, left, py(v));
    cairo_line_to(cr, right, py(v));
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    std::snprintf(text, sizeof text, percent ? "%.1f%%" : "%.3f", percent ? 100 * v : v);
    cairo_move_to(cr, x0 + 4, py(v) + 4);
    cairo_show_text(cr, text);
  }
  // x ticks: the epochs (at most ~10 labels).
  const size_t step = std::max<size_t>(1, (n + 9) / 10);
  for (size_t i = 0; i < n; i += step) {
    std::snprintf(text, sizeof text, "%zu", i + 1);
    cairo_move_to(cr, px(static_cast<double>(i)) - 3, bottom + 16);
    cairo_show_text(cr, text);
  }
  cairo_move_to(cr, (left + right) / 2 - 15, bottom + 32);
  cairo_show_text(cr, "epoch");
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, left, top, right - left, bottom - top);
  cairo_stroke(cr);

  // The legend goes in the top or bottom corner, away from where the first series ends.
  const bool ends_high = !series.empty() && !series[0].y.empty() && py(series[0].y.back()) < (top + bottom) / 2;
  double legend_y = ends_high ? bottom - 10 - 16.0 * (series.size() - 1) : top + 16;
  for (const auto& s : series) {
    cairo_set_source_rgb(cr, s.r, s.g, s.b);
    cairo_set_line_width(cr, 2.0);
    for (size_t i = 0; i < s.y.size(); ++i) {
      if (i == 0) cairo_move_to(cr, px(0), py(s.y[0]));
      else cairo_line_to(cr, px(static_cast<double>(i)), py(s.y[i]));
    }
    cairo_stroke(cr);
    for (size_t i = 0; i < s.y.size(); ++i) {
      cairo_arc(cr, px(static_cast<double>(i)), py(s.y[i]), 3, 0, 2 * M_PI);
      cairo_fill(cr);
    }
    cairo_move_to(cr, right - 110, legend_y);
    cairo_line_to(cr, right - 90, legend_y);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, right - 85, legend_y + 4);
    cairo_show_text(cr, s.label);
    legend_y += 16;
    cairo_set_line_width(cr, 1.0);
  }
}

}  // namespace detail
#endif

// Writes `prefix`.csv and, with Cairo, `prefix`.png; returns the files written.
inline std::vector<std::string> write_curves(const std::string& prefix, const std::string& title,
                                             const std::vector<EpochRecord>& rows) {
  std::vector<std::string> written{prefix + ".csv"};
  write_csv(written[0], rows);
#ifdef TESSERA_EXAMPLES_HAVE_CAIRO
  const int W = 960, H = 400;
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  std::vector<double> loss, train_acc, test_acc;
  for (const auto& r : rows) {
    loss.push_back(r.train_loss);
    train_acc.push_back(r.train_accuracy);
    test_acc.push_back(r.test_accuracy);
  }
  detail::draw_panel(cr, 0, 0, W / 2.0, H, (title + ": training loss").c_str(),
                     {{loss, 0.85, 0.33, 0.1, "train"}}, false);
  detail::draw_panel(cr, W / 2.0, 0, W / 2.0, H, (title + ": accuracy").c_str(),
                     {{train_acc, 0.85, 0.33, 0.1, "train"}, {test_acc, 0.0, 0.45, 0.7, "test"}}, true);
  cairo_destroy(cr);
  const std::string png = prefix + ".png";
  const cairo_status_t status = cairo_surface_write_to_png(surface, png.c_str());
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    throw std::runtime_error("cannot write " + png + ": " + cairo_status_to_string(status));
  }
  written.push_back(png);
#endif
  return written;
}

}  // namespace examples
