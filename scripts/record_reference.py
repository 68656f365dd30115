"""Record PyTorch's predictions and logits for a CRNN and images: the
reference `crnn-predict --verify` compares the Swift model with.

    python3 scripts/record_reference.py MODEL.pt IMAGE_OR_FOLDER... --batch N --out REFERENCE.json

Needs torch, torchvision and pillow. MODEL is a state_dict in either
torch.save layout, or a checkpoint dict holding one under 'state_dict',
'model_state_dict' or 'model' (an 'alphabet' key there is used); a 'module.'
prefix is removed. Hidden size, vocabulary size and trunk widths come from the
shapes. Images (folders expanded to their .png/.jpg/.jpeg files, sorted) are
converted as the notebook does (fixtures/crnn_reference.load_image) and run
through the REAL PyTorch forward in eval mode over consecutive batches of N
(N=1: each image its own batch, the faithful mode; the GRUs run along the
batch axis, so N>1 gives other numbers). Images in one batch must have the
same size.

Output, format "crnn-reference/1":
  {"format": "crnn-reference/1", "model_file": basename, "model_sha256": hex,
   "torch_version": str, "batch_size": N, "alphabet": str,
   "images": [{"file": path relative to the reference file's folder,
               "text": greedy CTC text, "logits": [[classes floats] x T]}]}
`logits` is the raw linear2 output for that image (output[:, i, :]), each
float32 written as the Python float of its exact value.
"""

import argparse
import hashlib
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures'))
import crnn_reference as ref  # noqa: E402

WRAPPER_KEYS = ('state_dict', 'model_state_dict', 'model')


def load_model(path):
    loaded = torch.load(path, map_location='cpu', weights_only=True)
    alphabet = ref.ALPHABET
    if isinstance(loaded, dict):
        for key in WRAPPER_KEYS:
            if key in loaded and isinstance(loaded[key], dict):
                if isinstance(loaded.get('alphabet'), str):
                    alphabet = loaded['alphabet']
                loaded = loaded[key]
                break
    state = {(k[len('module.'):] if k.startswith('module.') else k): v for k, v in loaded.items()}
    widths = (state['resnet.0.weight'].shape[0], state['resnet.5.0.conv1.weight'].shape[0],
              state['resnet.6.0.conv1.weight'].shape[0])
    hidden = state['gru1.gru.weight_hh_l0'].shape[1]
    vocab = state['linear2.weight'].shape[0]
    rnn_input = state['linear1.weight'].shape[0]
    rows = state['linear1.weight'].shape[1] // widths[2]
    model = ref.CRNN(hidden_size=hidden, vocab_size=vocab, widths=widths, rnn_input=rnn_input, rows=rows)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    model.eval()
    if vocab != len(alphabet) + 1:
        raise SystemExit(f'{path}: {vocab} classes but alphabet {alphabet!r}')
    return model, alphabet


def image_files(arguments):
    files = []
    for argument in arguments:
        if os.path.isdir(argument):
            files += sorted(os.path.join(argument, name) for name in os.listdir(argument)
                            if name.lower().endswith(('.png', '.jpg', '.jpeg')))
        else:
            files.append(argument)
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('model')
    parser.add_argument('images', nargs='+')
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    model, alphabet = load_model(args.model)
    files = image_files(args.images)
    out_folder = os.path.dirname(os.path.abspath(args.out))
    entries = []
    with torch.no_grad():
        for start in range(0, len(files), args.batch):
            group = files[start:start + args.batch]
            inputs = [ref.load_image(f) for f in group]
            if len({tuple(t.shape) for t in inputs}) != 1:
                raise SystemExit(f'images of one batch differ in size: {group}')
            logits = model(torch.cat(inputs))  # [T, B, classes]
            for index, file in enumerate(group):
                column = logits[:, index, :]
                entries.append({'file': os.path.relpath(os.path.abspath(file), out_folder),
                                'text': ref.greedy_ctc_decode(column, alphabet),
                                'logits': [[float(v) for v in row] for row in column.tolist()]})
    with open(args.model, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    document = {'format': 'crnn-reference/1', 'model_file': os.path.basename(args.model), 'model_sha256': digest,
                'torch_version': torch.__version__, 'batch_size': args.batch, 'alphabet': alphabet,
                'images': entries}
    with open(args.out, 'w') as f:
        json.dump(document, f)
    right = sum(e['text'] == os.path.basename(e['file']).split('.')[0].split('-')[-1] for e in entries)
    print(f'{args.out}: {len(entries)} images, batch {args.batch}; texts equal to the file name: {right}/{len(entries)}')


if __name__ == '__main__':
    main()
