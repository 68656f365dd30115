import Foundation
import Pickle
import Testing
import TestSupport

/// Every fixture in fixtures/pickle: the value Python read, or the error the
/// Swift reader must raise.
struct FixtureTests {
    @Test func fixturesArePresent() {
        #expect(PickleTestSupport.caseNames.count > 50)
        #expect(PickleTestSupport.caseNames.contains("structure_p5"))
    }

    @Test(arguments: PickleTestSupport.caseNames)
    func fixture(_ name: String) throws {
        let expected = try #require(try Fixtures.json("pickle/\(name).json") as? [String: Any])
        let policyName = try #require(expected["policy"] as? String)
        let unpickler = Unpickler(policy: try #require(PickleTestSupport.policy(named: policyName)))
        let bytes = try PickleTestSupport.bytes(of: name)

        if let pickles = expected["pickles"] as? [[String: Any]] {
            var start = 0
            for (index, pickle) in pickles.enumerated() {
                let result = try unpickler.load(Array(bytes[start...]))
                let end = try #require(pickle["end"] as? Int)
                #expect(start + result.consumed == end, "pickle \(index) ends at \(start + result.consumed), Python says \(end)")
                let difference = PickleTestSupport.mismatch(result.value, pickle["value"] as Any)
                #expect(difference == nil, "pickle \(index): \(difference ?? "")")
                start += result.consumed
            }
        } else {
            let error = try #require(expected["error"] as? [String: Any])
            let kind = try #require(error["kind"] as? String)
            do {
                let result = try unpickler.load(bytes)
                Issue.record("expected \(kind), read \(result.value)")
            } catch let failure as PickleError {
                #expect(PickleTestSupport.kind(of: failure) == kind, "got \(failure)")
                switch failure {
                case .forbiddenGlobal(let module, let globalName, _), .notCallable(let module, let globalName, _, _):
                    #expect(module == error["module"] as? String)
                    #expect(globalName == error["name"] as? String)
                    #expect(failure.description.contains("\(module).\(globalName)"))
                case .memoMissing(let key, _): #expect(key == error["key"] as? Int)
                case .unknownOpcode(let byte, _): #expect(Int(byte) == error["byte"] as? Int)
                default: break
                }
                #expect(failure.description.contains("byte \(failure.offset)"))
            }
        }
    }
}
