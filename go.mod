module ds440

go 1.25
