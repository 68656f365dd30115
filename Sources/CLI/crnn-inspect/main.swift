import ArgumentParser
print("crnn-inspect")
