import Pickle
import TensorCore
import CZip
