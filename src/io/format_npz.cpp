// .npz: a zip archive of .npy members (NumPy's savez: stored; savez_compressed: deflate),
// read and written through libzip. The archive is opened from memory (the mapped file or the
// bytes of a stream), so the zip reader never sees more than the input.
//
// Zip bombs: before a member is decompressed, its declared size must be what deflate can
// produce from its compressed size (at most 1032:1) or, stored, equal to it, and the sum over
// the archive must stay under the caller's limit. Its .npy header is read first and must
// account for the declared size exactly; only then is the buffer allocated, and the member
// must end exactly there (libzip checks the CRC at the end).
#include <cstring>
#include <memory>
#include <unordered_set>

#include "io/formats.hpp"
#include "tessera/config.hpp"

#if TESSERA_HAS_ZIP
#include <zip.h>
#endif

namespace tessera::io_detail {

#if TESSERA_HAS_ZIP

namespace {

// DEFLATE's best case: a 258-byte match per 2-bit code, about 1032:1; the slack covers
// block headers of tiny members.
constexpr uint64_t kDeflateRatio = 1032;
constexpr uint64_t kDeflateSlack = 1024;

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct FileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

std::string zip_message(zip_error_t* e) {
  std::string s = zip_error_strerror(e);
  zip_error_fini(e);
  return s;
}

}  // namespace

std::vector<NpzMember> read_npz(const Bytes& b, size_t limit, const char* op) {
  if (b.size == 0) fail(op, b.label, "the file is empty");
  zip_error_t ze;
  zip_error_init(&ze);
  zip_source_t* src = zip_source_buffer_create(b.data, b.size, 0, &ze);
  if (!src) fail(op, b.label, "cannot read the archive: " + zip_message(&ze));
  std::unique_ptr<zip_t, ZipCloser> za(zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze));
  if (!za) {
    zip_source_free(src);
    // libzip refuses an archive with a name twice as "File already exists".
    if (zip_error_code_zip(&ze) == ZIP_ER_EXISTS) fail(op, b.label, "the archive holds a member name twice");
    fail(op, b.label, "not a valid zip archive: " + zip_message(&ze));
  }
  zip_error_fini(&ze);
  const zip_int64_t n = zip_get_num_entries(za.get(), 0);
  if (n < 0) fail(op, b.label, "cannot count the archive's members");

  std::vector<NpzMember> out;
  std::unordered_set<std::string> names;
  uint64_t total = 0;
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0) {
      fail(op, b.label, "cannot read member " + std::to_string(i) + ": " + zip_strerror(za.get()));
    }
    const zip_uint64_t need = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD |
                              ZIP_STAT_ENCRYPTION_METHOD;
    if ((st.valid & need) != need) fail(op, b.label, "member " + std::to_string(i) + " lacks its sizes");
    const std::string full = st.name;
    const std::string what = "member " + quote_name(full);
    if (full.size() < 4 || full.compare(full.size() - 4, 4, ".npy") != 0) {
      fail(op, b.label, what + " is not a .npy file");
    }
    std::string name = full.substr(0, full.size() - 4);
    if (!names.insert(name).second) fail(op, b.label, "the archive holds " + quote_name(full) + " twice");
    if (st.encryption_method != ZIP_EM_NONE) fail(op, b.label, what + " is encrypted");
    if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE) {
      fail(op, b.label, what + " uses compression method " + std::to_string(st.comp_method) +
                            " (an .npz is stored or deflated)");
    }
    if (st.comp_size > b.size) {
      fail(op, b.label, what + " claims " + std::to_string(st.comp_size) + " compressed bytes in a " +
                            std::to_string(b.size) + "-byte file");
    }
    if (st.comp_method == ZIP_CM_STORE && st.size != st.comp_size) {
      fail(op, b.label, what + " is stored but its sizes disagree (" + std::to_string(st.size) + " and " +
                            std::to_string(st.comp_size) + " bytes)");
    }
    if (st.comp_method == ZIP_CM_DEFLATE && st.size > st.comp_size * kDeflateRatio + kDeflateSlack) {
      fail(op, b.label, what + " claims " + std::to_string(st.size) + " bytes from " + std::to_string(st.comp_size) +
                            " compressed, more than deflate can expand to (a zip bomb?)");
    }
    if (st.size > limit - total) {  // total <= limit holds before each member
      fail(op, b.label, "the archive's members decompress to more than the limit of " + std::to_string(limit) +
                            " bytes (set_npz_limit raises it)");
    }
    total += st.size;

    std::unique_ptr<zip_file_t, FileCloser> f(zip_fopen_index(za.get(), static_cast<zip_uint64_t>(i), 0));
    if (!f) fail(op, b.label, "cannot open " + what + ": " + zip_strerror(za.get()));
    auto read = [&](uint8_t* dst, uint64_t k, const char* part) {
      uint64_t got = 0;
      while (got < k) {
        const zip_int64_t r = zip_fread(f.get(), dst + got, k - got);
        if (r < 0) fail(op, b.label, "reading " + what + " failed: " + zip_file_strerror(f.get()));
        if (r == 0) {
          fail(op, b.label, what + " ends after " + std::to_string(got) + " bytes of its " + part +
                                " (truncated?)");
        }
        got += static_cast<uint64_t>(r);
      }
    };
    // The .npy preamble and header, bounded by kMaxNpyHeader, before any large allocation.
    const std::string mlabel = b.label + " (" + what + ")";
    // 10 bytes, or 12 for versions whose length field is 4 bytes: never past the header, which
    // may be all the member holds.
    uint8_t pre[12] = {};
    size_t pre_n = static_cast<size_t>(std::min<uint64_t>(st.size, 10));
    read(pre, pre_n, "header");
    if (pre_n == 10 && pre[6] != 1 && st.size >= 12) {
      read(pre + 10, 2, "header");
      pre_n = 12;
    }
    const size_t hlen = npy_header_length(pre, pre_n, op, mlabel);
    if (hlen > st.size) fail(op, b.label, what + " is shorter than its .npy header");
    std::vector<uint8_t> head(hlen);
    std::memcpy(head.data(), pre, pre_n);
    read(head.data() + pre_n, hlen - pre_n, "header");
    NpyHeader h = parse_npy_header(head.data(), hlen, op, mlabel);
    if (h.nbytes != st.size - hlen) {
      fail(op, b.label, what + " holds " + std::to_string(st.size - hlen) + " data bytes but its header describes " +
                            std::to_string(h.nbytes) + " (" + dtype_name(h.dtype) + " " + shape_string(h.shape) + ")");
    }
    NpzMember m;
    m.name = std::move(name);
    m.header = h;
    m.header.data_offset = 0;
    m.data = std::shared_ptr<uint8_t[]>(new uint8_t[h.nbytes ? h.nbytes : 1]);
    read(m.data.get(), h.nbytes, "data");
    // Past the declared size there must be nothing: this read reaches the end of the member,
    // where libzip checks the CRC (a stream that inflates past its size fails here too).
    uint8_t extra;
    const zip_int64_t r = zip_fread(f.get(), &extra, 1);
    if (r < 0) fail(op, b.label, "reading " + what + " failed: " + zip_file_strerror(f.get()));
    if (r > 0) fail(op, b.label, what + " decompresses past its declared size of " + std::to_string(st.size) + " bytes");
    const int closed = zip_fclose(f.release());
    if (closed != 0) {
      zip_error_t e;
      zip_error_init_with_code(&e, closed);
      fail(op, b.label, "reading " + what + " failed: " + zip_message(&e));
    }
    if (h.dtype == bool_) check_bool_bytes(m.data.get(), h.nbytes, op, b.label, what);
    out.push_back(std::move(m));
  }
  return out;
}

void write_npz(Sink& out, const std::vector<NpzEntry>& entries, bool compress, const char* op) {
  const std::string label = "archive";
  zip_error_t ze;
  zip_error_init(&ze);
  // The archive is assembled in memory (the members' bytes are referenced, not copied, until
  // libzip writes them), then handed to the sink in one pass.
  zip_source_t* buf = zip_source_buffer_create(nullptr, 0, 0, &ze);
  if (!buf) fail(op, label, "libzip: " + zip_message(&ze));
  zip_t* za = zip_open_from_source(buf, ZIP_TRUNCATE, &ze);
  if (!za) {
    zip_source_free(buf);
    fail(op, label, "libzip: " + zip_message(&ze));
  }
  zip_source_keep(buf);
  std::unique_ptr<zip_source_t, decltype(&zip_source_free)> keep(buf, zip_source_free);
  std::unique_ptr<zip_t, ZipCloser> zguard(za);
  for (const NpzEntry& e : entries) {
    zip_buffer_fragment_t frags[2] = {
        {reinterpret_cast<zip_uint8_t*>(const_cast<char*>(e.header.data())), e.header.size()},
        {static_cast<zip_uint8_t*>(const_cast<void*>(e.data)), e.nbytes}};
    zip_source_t* s = zip_source_buffer_fragment_create(frags, e.nbytes ? 2 : 1, 0, &ze);
    if (!s) fail(op, label, "libzip: " + zip_message(&ze));
    const std::string name = e.name + ".npy";
    const zip_int64_t idx = zip_file_add(za, name.c_str(), s, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(s);
      fail(op, label, "cannot add " + quote_name(name) + ": " + zip_strerror(za));
    }
    const auto u = static_cast<zip_uint64_t>(idx);
    // A fixed timestamp (1980-01-02, the DOS epoch's second day in every time zone) keeps
    // the bytes reproducible.
    if (zip_set_file_compression(za, u, compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) != 0 ||
        zip_file_set_mtime(za, u, 315619200 + 12 * 3600, 0) != 0) {
      fail(op, label, "libzip: " + std::string(zip_strerror(za)));
    }
  }
  if (zip_close(za) != 0) fail(op, label, "libzip: " + std::string(zip_strerror(za)));
  zguard.release();  // closed: zip_close freed it
  if (zip_source_open(buf) != 0) fail(op, label, "libzip: cannot read the archive back");
  std::vector<uint8_t> chunk(size_t(1) << 20);
  for (;;) {
    const zip_int64_t r = zip_source_read(buf, chunk.data(), chunk.size());
    if (r < 0) {
      zip_source_close(buf);
      fail(op, label, "libzip: cannot read the archive back");
    }
    if (r == 0) break;
    out.write(chunk.data(), static_cast<size_t>(r));
  }
  zip_source_close(buf);
}

#else  // !TESSERA_HAS_ZIP

std::vector<NpzMember> read_npz(const Bytes&, size_t, const char* op) {
  throw std::runtime_error(std::string("[") + op +
                           "] this build of Tessera has no .npz support: install libzip-dev and reconfigure");
}
void write_npz(Sink&, const std::vector<NpzEntry>&, bool, const char* op) {
  throw std::runtime_error(std::string("[") + op +
                           "] this build of Tessera has no .npz support: install libzip-dev and reconfigure");
}

#endif

}  // namespace tessera::io_detail
