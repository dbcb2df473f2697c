import XCTest
@testable import ObjectStorage

final class XMLScanTests: XCTestCase {
    private let listing = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <Name>bucket</Name>
          <Prefix>out/</Prefix>
          <KeyCount>2</KeyCount>
          <MaxKeys>1000</MaxKeys>
          <IsTruncated>true</IsTruncated>
          <Contents>
            <Key>out/a &amp; b.ts</Key>
            <LastModified>2009-10-12T17:50:30.000Z</LastModified>
            <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
            <Size>434234</Size>
            <StorageClass>STANDARD</StorageClass>
          </Contents>
          <Contents>
            <Key>out/master.m3u8</Key>
            <LastModified>2009-10-12T17:50:31.000Z</LastModified>
            <ETag>"0123"</ETag>
            <Size>12</Size>
            <StorageClass>STANDARD</StorageClass>
          </Contents>
          <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
        </ListBucketResult>
        """

    func testElementsInDocumentOrder() {
        XCTAssertEqual(XMLScan.values("Key", in: listing), ["out/a & b.ts", "out/master.m3u8"])
        XCTAssertEqual(XMLScan.values("Size", in: listing), ["434234", "12"])
    }

    func testNestedListOfContents() {
        let entries = XMLScan.elements("Contents", in: listing)
        XCTAssertEqual(entries.count, 2)
        XCTAssertEqual(entries.map { XMLScan.value("Key", in: $0) }, ["out/a & b.ts", "out/master.m3u8"])
        XCTAssertEqual(entries.map { XMLScan.value("ETag", in: $0) }, ["\"fba9dede5f27731c9771645a39863328\"", "\"0123\""])
        XCTAssertEqual(XMLScan.value("LastModified", in: entries[1]), "2009-10-12T17:50:31.000Z")
    }

    func testTopLevelValues() {
        XCTAssertEqual(XMLScan.value("IsTruncated", in: listing), "true")
        XCTAssertEqual(XMLScan.value("NextContinuationToken", in: listing), "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        XCTAssertNil(XMLScan.value("ContinuationToken", in: listing))
    }

    func testANameThatPrefixesAnotherDoesNotMatchIt() {
        XCTAssertEqual(XMLScan.values("Key", in: "<KeyCount>2</KeyCount><Key>x</Key>"), ["x"])
        XCTAssertEqual(XMLScan.value("KeyCount", in: listing), "2")
    }

    func testMissingElementIsNil() {
        XCTAssertNil(XMLScan.value("Code", in: listing))
        XCTAssertEqual(XMLScan.values("Code", in: listing), [])
    }

    func testMissingCloseTagEndsTheScan() {
        XCTAssertEqual(XMLScan.values("Key", in: "<Key>a</Key><Key>b"), ["a"])
        XCTAssertNil(XMLScan.value("Key", in: "<Key>unterminated"))
    }

    func testEmptyElement() {
        XCTAssertEqual(XMLScan.value("Prefix", in: "<Prefix></Prefix>"), "")
    }

    func testTheFiveEntities() {
        XCTAssertEqual(XMLScan.decode("a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;"), "a & b <c> \"d\" 'e'")
    }

    func testEntitiesAreDecodedOnce() {
        XCTAssertEqual(XMLScan.decode("&amp;lt;"), "&lt;")
        XCTAssertEqual(XMLScan.decode("&amp;amp;"), "&amp;")
    }

    func testNumericReferences() {
        XCTAssertEqual(XMLScan.decode("&#65;&#x42;&#x63;"), "ABc")
        XCTAssertEqual(XMLScan.decode("&#233;t&#xE9;"), "été")
        XCTAssertEqual(XMLScan.decode("&#x1F600;"), "\u{1F600}")
        XCTAssertEqual(XMLScan.decode("line&#10;next&#13;"), "line\nnext\r")
    }

    func testUnknownOrBrokenReferencesAreKept() {
        XCTAssertEqual(XMLScan.decode("&nbsp;x"), "&nbsp;x")
        XCTAssertEqual(XMLScan.decode("&#xD800;"), "&#xD800;", "a surrogate is no scalar")
        XCTAssertEqual(XMLScan.decode("&#xZZ;"), "&#xZZ;")
        XCTAssertEqual(XMLScan.decode("a & b"), "a & b")
        XCTAssertEqual(XMLScan.decode("tail &amp"), "tail &amp")
        XCTAssertEqual(XMLScan.decode("far & away; &amp;"), "far & away; &", "an unknown name is kept, what follows decoded")
    }

    func testTextWithoutAmpersandIsUnchanged() {
        XCTAssertEqual(XMLScan.decode("plain/key.ts"), "plain/key.ts")
    }

    func testEscape() {
        XCTAssertEqual(XMLScan.escape("a&b<c>\"d\"'e'"), "a&amp;b&lt;c&gt;&quot;d&quot;&apos;e&apos;")
        XCTAssertEqual(XMLScan.escape("plain"), "plain")
    }

    func testEscapeThenDecodeRoundTrips() {
        for text in ["", "a & b", "<Key>x</Key>", "&amp;", "é \"q\" 'a'", "&#65;"] {
            XCTAssertEqual(XMLScan.decode(XMLScan.escape(text)), text)
        }
    }

    func testErrorDocument() {
        let error = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>NoSuchKey</Code><Message>The resource you requested does not exist</Message><Resource>/b/k</Resource></Error>
            """
        XCTAssertEqual(XMLScan.value("Code", in: error), "NoSuchKey")
        XCTAssertEqual(XMLScan.value("Message", in: error), "The resource you requested does not exist")
    }
}
