module weir/bench/gateway/loadgen

go 1.22
