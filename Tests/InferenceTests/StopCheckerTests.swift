import Inference
import Testing

@Suite struct StopCheckerTests {
    func feed(_ pieces: [String], stops: [String]) -> (String, Bool) {
        var checker = StopChecker(stops: stops)
        var out = ""
        for piece in pieces {
            let (text, stopped) = checker.append(piece)
            out += text
            if stopped { return (out, true) }
        }
        return (out + checker.finish(), false)
    }

    @Test func stopStringSpanningPiecesIsNeverEmitted() {
        #expect(feed(["Hello wo", "r", "ld and more"], stops: ["world"]) == ("Hello ", true))
    }

    @Test func heldBackPrefixIsReleasedWhenItDoesNotMatch() {
        #expect(feed(["abc wo", "rk"], stops: ["world"]) == ("abc work", false))
    }

    @Test func earliestOfSeveralStopsWins() {
        #expect(feed(["one two three"], stops: ["three", "two"]) == ("one ", true))
    }

    @Test func nonASCIIStopsCutOnCharacterBoundaries() {
        #expect(feed(["日本", "語です"], stops: ["語"]) == ("日本", true))
        #expect(feed(["naïve café"], stops: ["é"]) == ("naïve caf", true))
    }

    @Test func emptyStopStringsAreIgnored() {
        #expect(feed(["abc"], stops: [""]) == ("abc", false))
    }

    @Test func textIsHeldOnlyWhileItCouldStillBecomeAStop() {
        var checker = StopChecker(stops: ["</answer>"])
        #expect(checker.append("x </ans").text == "x ")
        #expect(checker.append("wer").text == "")
        #expect(checker.append("!").text == "</answer!")
    }
}
