import FuzzDriver

runFuzzer { data, size in fuzzRequestsInput(data, size) }
