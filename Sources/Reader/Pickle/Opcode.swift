/// The pickle opcodes of protocols 0 to 5 (Python's Lib/pickletools.py),
/// named as Python names them.
enum Opcode: UInt8, CaseIterable {
    case MARK = 0x28
    case EMPTY_TUPLE = 0x29
    case STOP = 0x2e
    case POP = 0x30
    case POP_MARK = 0x31
    case DUP = 0x32
    case BINBYTES = 0x42
    case SHORT_BINBYTES = 0x43
    case FLOAT = 0x46
    case BINFLOAT = 0x47
    case INT = 0x49
    case BININT = 0x4a
    case BININT1 = 0x4b
    case LONG = 0x4c
    case BININT2 = 0x4d
    case NONE = 0x4e
    case PERSID = 0x50
    case BINPERSID = 0x51
    case REDUCE = 0x52
    case STRING = 0x53
    case BINSTRING = 0x54
    case SHORT_BINSTRING = 0x55
    case UNICODE = 0x56
    case BINUNICODE = 0x58
    case EMPTY_LIST = 0x5d
    case APPEND = 0x61
    case BUILD = 0x62
    case GLOBAL = 0x63
    case DICT = 0x64
    case APPENDS = 0x65
    case GET = 0x67
    case BINGET = 0x68
    case INST = 0x69
    case LONG_BINGET = 0x6a
    case LIST = 0x6c
    case OBJ = 0x6f
    case PUT = 0x70
    case BINPUT = 0x71
    case LONG_BINPUT = 0x72
    case SETITEM = 0x73
    case TUPLE = 0x74
    case SETITEMS = 0x75
    case EMPTY_DICT = 0x7d
    case PROTO = 0x80
    case NEWOBJ = 0x81
    case EXT1 = 0x82
    case EXT2 = 0x83
    case EXT4 = 0x84
    case TUPLE1 = 0x85
    case TUPLE2 = 0x86
    case TUPLE3 = 0x87
    case NEWTRUE = 0x88
    case NEWFALSE = 0x89
    case LONG1 = 0x8a
    case LONG4 = 0x8b
    case SHORT_BINUNICODE = 0x8c
    case BINUNICODE8 = 0x8d
    case BINBYTES8 = 0x8e
    case EMPTY_SET = 0x8f
    case ADDITEMS = 0x90
    case FROZENSET = 0x91
    case NEWOBJ_EX = 0x92
    case STACK_GLOBAL = 0x93
    case MEMOIZE = 0x94
    case FRAME = 0x95
    case BYTEARRAY8 = 0x96
    case NEXT_BUFFER = 0x97
    case READONLY_BUFFER = 0x98

    /// The opcode's name, as pickletools prints it.
    var name: String { String(describing: self) }
}
