// safetensors: the JSON header (through nlohmann-json with the duplicate/depth guard) and
// the offset checks; an accepted file, rewritten by safetensors_header with its tensors'
// bytes, parses to the same tensors and metadata.
#include <algorithm>
#include <cstdio>

#include "fuzz_common.hpp"

using namespace tessera::io_detail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    SafetensorsInfo info = parse_safetensors(fuzz::bytes(data, size), "fuzz");
    std::vector<SafetensorsEntry> entries;
    std::string blob;
    for (const TensorSpec& t : info.tensors) {
      fuzz::touch(data + t.offset, t.nbytes);
      entries.push_back({t.name, t.dtype, t.shape, t.nbytes});
      blob.append(reinterpret_cast<const char*>(data + t.offset), t.nbytes);
    }
    std::string again;
    try {
      again = safetensors_header(entries, info.metadata) + blob;
    } catch (const std::exception&) {
      return 0;  // F8 types come back as U8 names only after a load; names that are not UTF-8
    }
    SafetensorsInfo g = parse_safetensors(fuzz::bytes(reinterpret_cast<const uint8_t*>(again.data()), again.size()), "fuzz");
    fuzz::check(g.tensors.size() == info.tensors.size() && g.metadata.size() == info.metadata.size(),
                "safetensors round trip");
    for (const TensorSpec& t : g.tensors) {
      auto it = std::find_if(info.tensors.begin(), info.tensors.end(), [&](const TensorSpec& o) { return o.name == t.name; });
      fuzz::check(it != info.tensors.end() && it->shape == t.shape && it->nbytes == t.nbytes, "safetensors tensor");
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
