"""Writes a torch.save-style zip checkpoint of more than 4 GiB, in zip64 form,
without PyTorch and without holding the data in memory.

    python3 scripts/make_zip64_checkpoint.py PATH [GIB]      (GIB: size of the big storage, default 4.5)

Layout, as torch.save writes it: ROOT/data.pkl, ROOT/data/0 (one float32
storage of GIB GiB, zeros, STORED: its sizes need the zip64 extra field),
ROOT/data/1 (3 floats, whose local header lies past 4 GiB: its offset needs
zip64 too), ROOT/byteorder, ROOT/version; the end of the archive has the zip64
end-of-central-directory record and locator. data.pkl holds the state_dict
{'big.weight': float32 [numel] on storage 0, 'small.bias': float32 [3] on
storage 1}, pickled by Python's pickler against the stand-in torch names of
fixtures/make_handmade_checkpoints.py. Standard library only. Prints the
file's size and the big tensor's element count.
"""

import collections
import os
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures'))
import make_handmade_checkpoints as handmade  # noqa: E402

CHUNK = 64 << 20


class BigStorage(handmade.Storage):
    """A float32 storage of `numel` zeros, written in chunks."""

    def __init__(self, key, numel):
        super().__init__(key, [])
        self.numel = numel


def main():
    path = sys.argv[1]
    gib = float(sys.argv[2]) if len(sys.argv) > 2 else 4.5
    numel = int(gib * (1 << 30)) // 4
    big, small = BigStorage('0', numel), handmade.Storage('1', [0.5, -2.0, 4.0])
    state_dict = collections.OrderedDict([('big.weight', handmade.Tensor(big, (numel,))),
                                          ('small.bias', handmade.Tensor(small, (3,)))])
    root = os.path.splitext(os.path.basename(path))[0]
    with zipfile.ZipFile(path, 'w', compression=zipfile.ZIP_STORED, allowZip64=True) as z:
        z.writestr(f'{root}/data.pkl', handmade.pickle_state_dict(state_dict, legacy=False))
        info = zipfile.ZipInfo(f'{root}/data/0', date_time=(1980, 1, 1, 0, 0, 0))
        with z.open(info, 'w', force_zip64=True) as record:
            zeros = bytes(CHUNK)
            left = numel * 4
            while left:
                record.write(zeros[:min(left, CHUNK)])
                left -= min(left, CHUNK)
        z.writestr(f'{root}/data/1', small.data())
        z.writestr(f'{root}/byteorder', b'little')
        z.writestr(f'{root}/version', b'3\n')
    print(os.path.getsize(path), numel)


if __name__ == '__main__':
    main()
