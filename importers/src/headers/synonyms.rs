//! The header names recognised for each field, in English and Korean.
//!
//! Names are stored normalised (lower case, letters and digits only), as
//! [`crate::normalize_header`] makes them: "Q'ty" is "qty", "P/N" is "pn".

use crate::model::Field;
use crate::values::currency::{iso_code, parse_currency};

/// Known header names per field, already normalised; earlier names win ties.
pub(crate) const SYNONYMS: &[(Field, &[&str])] = &[
    (
        Field::Mpn,
        &[
            "mpn",
            "mfrpartnumber",
            "mfrpartno",
            "manufacturerpartnumber",
            "manufacturerpartno",
            "partnumber",
            "partno",
            "partnum",
            "pn",
            "part",
            "modelnumber",
            "modelno",
            "model",
            "품번",
            "부품번호",
            "제품번호",
            "모델명",
            "모델",
            "파트넘버",
        ],
    ),
    (
        Field::Manufacturer,
        &[
            "manufacturer",
            "mfr",
            "mfg",
            "maker",
            "brand",
            "vendor",
            "제조사",
            "제조업체",
            "메이커",
            "브랜드",
        ],
    ),
    (
        Field::Description,
        &[
            "description",
            "desc",
            "itemdescription",
            "productdescription",
            "productname",
            "product",
            "item",
            "품명",
            "설명",
            "사양",
            "제품명",
            "상품명",
        ],
    ),
    (
        Field::Category,
        &[
            "category",
            "producttype",
            "type",
            "분류",
            "품목",
            "카테고리",
            "종류",
        ],
    ),
    (
        Field::Quantity,
        &[
            "qty",
            "quantity",
            "units",
            "orderqty",
            "qtyordered",
            "shippedqty",
            "qtyshipped",
            "pcs",
            "수량",
        ],
    ),
    (
        Field::UnitPrice,
        &[
            "unitprice",
            "up",
            "unitcost",
            "priceperunit",
            "price",
            "단가",
            "가격",
        ],
    ),
    (
        Field::Currency,
        &["currency", "curr", "ccy", "cur", "통화", "화폐"],
    ),
    (
        Field::Serial,
        &[
            "serialnumber",
            "serialno",
            "serialnum",
            "serial",
            "sn",
            "시리얼번호",
            "시리얼",
            "일련번호",
            "제조번호",
        ],
    ),
    (
        Field::Carton,
        &[
            "carton",
            "cartonno",
            "cartonnumber",
            "cartonid",
            "box",
            "boxno",
            "boxnumber",
            "boxid",
            "caseno",
            "박스",
            "박스번호",
            "카톤",
            "카톤번호",
        ],
    ),
    (
        Field::Date,
        &[
            "date",
            "shipdate",
            "shippingdate",
            "deliverydate",
            "일자",
            "출고일",
            "날짜",
            "선적일",
            "납기일",
        ],
    ),
];

/// Lower-cases a header and keeps only letters and digits ("Q'ty" → "qty", "P/N" → "pn").
pub fn normalize_header(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The field a header names, if it is one this crate knows (English or Korean).
pub fn recognise_header(text: &str) -> Option<Field> {
    recognise(text).map(|r| r.field)
}

/// A recognised header: its field, how specific the name is (0 best), and a currency.
pub(crate) struct Recognised {
    pub field: Field,
    pub rank: usize,
    pub currency: Option<String>,
}

fn lookup(key: &str) -> Option<(Field, usize)> {
    SYNONYMS.iter().find_map(|(field, names)| {
        names
            .iter()
            .position(|n| *n == key)
            .map(|rank| (*field, rank))
    })
}

/// Recognises a header, reading a currency from "(USD)" or a trailing code ("Price USD").
pub(crate) fn recognise(text: &str) -> Option<Recognised> {
    let (base, bracket) = match text.find(['(', '[', '（']) {
        Some(open) => (&text[..open], Some(&text[open..])),
        None => (text, None),
    };
    let key = normalize_header(base);
    if let Some((field, rank)) = lookup(&key) {
        let currency = bracket.and_then(|b| {
            b.split(|c: char| !c.is_alphanumeric() && !matches!(c, '$' | '₩' | '€' | '¥' | '£'))
                .find_map(parse_currency)
        });
        return Some(Recognised {
            field,
            rank,
            currency,
        });
    }
    let cut = key.len().checked_sub(3)?;
    let code = key.get(cut..).and_then(iso_code)?;
    let (field, rank) = lookup(key.get(..cut)?)?;
    Some(Recognised {
        field,
        rank,
        currency: Some(code),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_headers_are_recognised_whatever_their_case_spacing_or_punctuation() {
        let cases = [
            ("Part Number", Field::Mpn),
            ("PART NO.", Field::Mpn),
            ("P/N", Field::Mpn),
            ("Mfr. Part Number", Field::Mpn),
            ("MPN", Field::Mpn),
            ("Brand", Field::Manufacturer),
            ("Mfr", Field::Manufacturer),
            ("Desc", Field::Description),
            ("Item", Field::Description),
            ("Type", Field::Category),
            ("Q'ty", Field::Quantity),
            ("Units", Field::Quantity),
            ("U/P", Field::UnitPrice),
            ("Unit Cost", Field::UnitPrice),
            ("CCY", Field::Currency),
            ("S/N", Field::Serial),
            ("Serial No.", Field::Serial),
            ("Carton No", Field::Carton),
            ("Box", Field::Carton),
            ("Ship Date", Field::Date),
        ];
        for (header, field) in cases {
            assert_eq!(recognise_header(header), Some(field), "{header}");
        }
    }

    #[test]
    fn korean_headers_are_recognised() {
        let cases = [
            ("품번", Field::Mpn),
            ("부품번호", Field::Mpn),
            ("제품번호", Field::Mpn),
            ("모델명", Field::Mpn),
            ("제조사", Field::Manufacturer),
            ("브랜드", Field::Manufacturer),
            ("품명", Field::Description),
            ("설명", Field::Description),
            ("사양", Field::Description),
            ("분류", Field::Category),
            ("품목", Field::Category),
            ("수량", Field::Quantity),
            ("단가", Field::UnitPrice),
            ("가격", Field::UnitPrice),
            ("통화", Field::Currency),
            ("시리얼", Field::Serial),
            ("일련번호", Field::Serial),
            ("시리얼 번호", Field::Serial),
            ("박스", Field::Carton),
            ("카톤", Field::Carton),
            ("일자", Field::Date),
            ("출고일", Field::Date),
        ];
        for (header, field) in cases {
            assert_eq!(recognise_header(header), Some(field), "{header}");
        }
    }

    #[test]
    fn unrelated_headers_are_not_recognised() {
        for header in ["Amount", "Total", "Remarks", "No.", "비고", "금액", ""] {
            assert_eq!(recognise_header(header), None, "{header}");
        }
    }

    #[test]
    fn a_currency_in_the_price_header_is_read() {
        for (header, code) in [
            ("Unit Price (USD)", "USD"),
            ("단가(원)", "KRW"),
            ("Price USD", "USD"),
            ("U/P [€]", "EUR"),
        ] {
            let r = recognise(header).unwrap_or_else(|| panic!("{header} not recognised"));
            assert_eq!(r.field, Field::UnitPrice, "{header}");
            assert_eq!(r.currency.as_deref(), Some(code), "{header}");
        }
    }
}
