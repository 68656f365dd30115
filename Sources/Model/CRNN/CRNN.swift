import TensorCore
import Kernels
