import ArgumentParser
print("crnn-convert")
