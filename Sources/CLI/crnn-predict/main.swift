import ArgumentParser
print("crnn-predict")
