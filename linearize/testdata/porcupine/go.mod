module ds440/linearize/testdata/porcupine

go 1.25

require (
	ds440 v0.0.0
	github.com/anishathalye/porcupine v1.3.1
)

replace ds440 => ../../..
