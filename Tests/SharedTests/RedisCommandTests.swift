import Shared
import Testing

/// The RESP bytes commands are sent as, checked byte for byte.
struct RedisCommandTests {
    @Test func encodesNameAndArgumentsAsBulkStrings() {
        let command = RedisCommand("SET", "key", .bytes([0, 13, 10]))
        #expect(String(decoding: command.encoded, as: UTF8.self) == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$3\r\n\0\r\n\r\n")
    }

    @Test(arguments: [0, 1, 9, 10, 99, 100, 1234, 16_384])
    func lengthsOfEveryDigitCount(length: Int) {
        let argument = [UInt8](repeating: UInt8(ascii: "x"), count: length)
        let command = RedisCommand("ECHO", .bytes(argument))
        #expect(command.encoded == Array("*2\r\n$4\r\nECHO\r\n$\(length)\r\n".utf8) + argument + [13, 10])
    }

    @Test func trailingArgumentsFollowTheOthersAndCount() {
        var trailing = RedisBulkArguments()
        trailing.append(Array("a".utf8))
        var more = RedisBulkArguments()
        more.append([])
        more.append(Array("line two".utf8))
        trailing.append(contentsOf: more)
        #expect(trailing.count == 3)

        let command = RedisCommand("RPUSH", ["list"], trailing: trailing)
        #expect(
            String(decoding: command.encoded, as: UTF8.self)
                == "*5\r\n$5\r\nRPUSH\r\n$4\r\nlist\r\n$1\r\na\r\n$0\r\n\r\n$8\r\nline two\r\n"
        )
        #expect(RedisCommand("RPUSH", ["list"], trailing: RedisBulkArguments()) == RedisCommand("RPUSH", "list"))
    }

    @Test func transactionWrapsItsCommandsInMultiAndExecWithACommandPerArgument() {
        var frames = RedisBulkArguments()
        frames.append(Array("one".utf8))
        frames.append([])
        var transaction = RedisTransaction()
        transaction.append("LPUSH", ["h"], trailing: frames)
        transaction.append("PUBLISH", ["ch"], forEachOf: frames)
        transaction.append("LTRIM", ["h", 0, 9])
        transaction.end()

        #expect(
            String(decoding: transaction.encoded, as: UTF8.self)
                == "*1\r\n$5\r\nMULTI\r\n"
                + "*4\r\n$5\r\nLPUSH\r\n$1\r\nh\r\n$3\r\none\r\n$0\r\n\r\n"
                + "*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$3\r\none\r\n"
                + "*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$0\r\n\r\n"
                + "*4\r\n$5\r\nLTRIM\r\n$1\r\nh\r\n$1\r\n0\r\n$1\r\n9\r\n"
                + "*1\r\n$4\r\nEXEC\r\n"
        )
        #expect(transaction.commandCount == 4)
        #expect(transaction.replyCount == 6, "MULTI's, one per command, EXEC's")
    }

    @Test func argumentsAppendedFromAnotherListKeepTheirBoundaries() {
        var first = RedisBulkArguments()
        first.append(Array("a".utf8))
        var second = RedisBulkArguments()
        second.append(Array("bb".utf8))
        second.append(Array("ccc".utf8))
        first.append(contentsOf: second)
        var transaction = RedisTransaction()
        transaction.append("ECHO", [], forEachOf: first)

        #expect(
            String(decoding: transaction.encoded, as: UTF8.self)
                == "*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nECHO\r\n$1\r\na\r\n*2\r\n$4\r\nECHO\r\n$2\r\nbb\r\n*2\r\n$4\r\nECHO\r\n$3\r\nccc\r\n"
        )
    }
}
