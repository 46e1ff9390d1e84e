module github.com/igbank/igbank/transports

go 1.26.0
