module github.com/igbank/igbank/cluster

go 1.26.0
