import CPNG
import CJPEG
