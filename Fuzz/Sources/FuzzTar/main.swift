import FuzzDriver

runFuzzer { data, size in fuzzTarInput(data, size) }
