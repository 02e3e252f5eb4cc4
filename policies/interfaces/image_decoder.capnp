@0x8295786e40dcdfab;
# The thumbnailer unit's typed interface (policies/thumbnailer.toml: [unit] interface). airlockd
# reads this file, not the worker, to learn the names of the methods a host may call: each call
# on it is decided by the unit's call rules under that name and audited like `call`.

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("thumbnailer::rpc");

interface ImageDecoder {
  decode @0 (png :Data) -> (width :UInt32, height :UInt32, digest :UInt64, art :Text);
  # Decodes a PNG held in memory; `art` is a small character thumbnail, `digest` an FNV-1a of
  # the grey pixels (the same as the `thumbnail` method's).

  describe @1 () -> (text :Text);
  # What the decoder is (libpng's version). Not granted to any caller by the shipped policy: the
  # demonstration that a typed method is refused by name like a generic one.
}
