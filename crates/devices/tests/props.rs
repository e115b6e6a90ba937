//! Whatever text a hall configures or a ticket carries, the printer gets a
//! clean stream that decodes back to that text, and an LED frame decodes back
//! to its text with a valid checksum.

use hallcall_devices::decode::decode;
use hallcall_devices::escpos::{sanitize, wrap};
use hallcall_devices::led::frame::{Checksum, Covers, Field, FrameSpec, HexBytes, TextEncoding};
use hallcall_devices::{render_ticket, IssueTime, TicketLayout, TicketPrint};
use proptest::prelude::*;

fn any_text() -> impl Strategy<Value = String> {
    // Hanzi, ASCII, controls (ESC, GS, LF…), full-width punctuation, emoji
    // and CJK Extension B (four-byte GB18030).
    proptest::collection::vec(
        prop_oneof![
            proptest::char::range('\u{4E00}', '\u{9FA5}'),
            proptest::char::range(' ', '~'),
            proptest::char::range('\u{0}', '\u{1F}'),
            Just('\u{3000}'),
            Just('，'),
            Just('😀'),
            Just('𠀀'),
        ],
        0..40,
    )
    .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_ticket_text_decodes_back(name in any_text(), category in any_text(), footer in any_text(), url in "[ -~]{0,80}") {
        let t = TicketPrint {
            hall_name: name.clone(),
            number: "A012".into(),
            category_name: category.clone(),
            ahead: 0,
            estimated_wait_s: None,
            issued_at: IssueTime::Text("2026-11-23 20:19".into()),
            status_url: url.clone(),
            note: None,
        };
        let layout = TicketLayout { footer: footer.clone(), ..TicketLayout::default() };
        let d = decode(&render_ticket(&t, &layout));
        prop_assert!(d.errors.is_empty(), "{:?}", d.errors);
        let lines: Vec<String> = d.lines().map(|l| l.text.clone()).collect();
        for part in [&name, &category, &footer] {
            for l in wrap(part, 48) {
                prop_assert!(l.is_empty() || lines.contains(&l), "{:?} not in {:?}", l, lines);
            }
        }
        let qr: Vec<String> = d.qr_codes().map(|q| q.data.clone()).collect();
        let want = sanitize(url.trim());
        if want.is_empty() {
            prop_assert!(qr.is_empty());
        } else {
            prop_assert_eq!(qr, vec![want]);
        }
        prop_assert_eq!(d.cuts().len(), 1);
    }

    #[test]
    fn any_led_text_round_trips(text in any_text(), address in 0u16..=255, enc in 0usize..4, sum in 0usize..5, covers in 0usize..3, with_len in any::<bool>()) {
        let encoding = [TextEncoding::Gb2312, TextEncoding::Gbk, TextEncoding::Gb18030, TextEncoding::Ascii][enc];
        let checksum = [Checksum::None, Checksum::Sum8, Checksum::Xor, Checksum::Crc16Modbus, Checksum::Crc16ModbusBe][sum];
        let mut layout = vec![Field::Header, Field::Address];
        if with_len { layout.push(Field::Len16Be); }
        layout.push(Field::Text);
        if checksum != Checksum::None { layout.push(Field::Checksum); }
        layout.push(Field::Trailer);
        let spec = FrameSpec {
            header: HexBytes(vec![0xAA, 0x55]),
            trailer: HexBytes(vec![0x0D, 0x0A]),
            encoding,
            checksum,
            checksum_covers: [Covers::AfterHeader, Covers::All, Covers::Text][covers],
            layout,
            max_text_bytes: None,
        };
        prop_assert!(spec.validate("frame").is_ok());
        let frame = spec.build(address, &text);
        let (bytes, _) = encoding.encode(&text);
        let expect = encoding.decode(&bytes);
        // Without a length field the text runs to the first trailer; text
        // containing CR LF is cut there, which GB text never contains
        // (controls are sent as spaces).
        let (d, used) = spec.decode(&frame).expect("frame").expect("complete");
        prop_assert_eq!(used, frame.len());
        prop_assert_eq!(d.address, address);
        prop_assert!(d.checksum_ok);
        prop_assert_eq!(d.text, expect);
    }
}
