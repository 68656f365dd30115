import TensorCore
import CZlib
