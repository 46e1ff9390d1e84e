package report

// CSVHeader lets the tests check WriteCSV's header.
var CSVHeader = csvHeader
