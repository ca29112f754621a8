// GGUF: the metadata and tensor-info parser, the bounds of every tensor, the quantized
// unpacking; an accepted file, rewritten by write_gguf, parses to the same metadata and
// tensors.
#include <cstdio>
#include <vector>

#include "fuzz_common.hpp"

using namespace tessera::io_detail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    GgufInfo info = parse_gguf(fuzz::bytes(data, size), "fuzz");
    std::vector<GgufEntry> entries;
    for (const GgufTensor& t : info.tensors) {
      fuzz::touch(data + t.offset, t.nbytes);
      if (const size_t bb = gguf_block_bytes(t.type)) {
        const size_t blocks = t.nbytes / bb;
        std::vector<uint32_t> w(blocks * gguf_block_words(t.type));
        std::vector<uint16_t> s(blocks), b(blocks);
        gguf_unpack_quantized(t.type, data + t.offset, blocks, w.data(), s.data(), b.data());
      }
      entries.push_back({t.name, t.type, t.shape, data + t.offset, t.nbytes});
    }
    fuzz::StringSink out;
    write_gguf(out, info.metadata, entries, info.alignment);
    GgufInfo g = parse_gguf(fuzz::bytes(reinterpret_cast<const uint8_t*>(out.out.data()), out.out.size()), "fuzz");
    fuzz::check(g.metadata.size() == info.metadata.size() && g.tensors.size() == info.tensors.size(), "gguf round trip");
    for (size_t i = 0; i < g.tensors.size(); ++i) {
      fuzz::check(g.tensors[i].name == info.tensors[i].name && g.tensors[i].shape == info.tensors[i].shape &&
                      g.tensors[i].type == info.tensors[i].type && g.tensors[i].nbytes == info.tensors[i].nbytes,
                  "gguf tensor");
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
