module example.com/appsuite

go 1.22
