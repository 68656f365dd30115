import CRNN
