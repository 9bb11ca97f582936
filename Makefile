# The two commands the README starts with: `make run` and `make test`.
MODEL ?= models/SmolLM2-135M-Instruct.Q4_1.gguf
HOST ?= 127.0.0.1
PORT ?= 8080
SWIFT_BUILD_FLAGS ?=

.PHONY: run test model build release test-deps clean

run: model release
	.build/release/llamaserve serve --model $(MODEL) --host $(HOST) --port $(PORT)

test: model test-deps
	swift build --build-tests $(SWIFT_BUILD_FLAGS)
	swift test --skip-build
	python3 -m pytest -q Tests/EndToEnd

model:
	@scripts/fetch-model.sh

test-deps:
	@python3 -m pip install --quiet --disable-pip-version-check -r Tests/requirements.txt

build:
	swift build $(SWIFT_BUILD_FLAGS)

release:
	swift build -c release $(SWIFT_BUILD_FLAGS)

clean:
	rm -rf .build
