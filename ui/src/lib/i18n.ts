// Russian and English. Russian is the default when the system's language is Russian.
const en = {
  tagline: 'Every client conversation, one calm window.',
  openDemo: 'Open demo workspace',
  demoHint: 'A workspace on this computer with sample channels, a CRM and clients who write now and then.',
  pickEmployee: 'Sign in to the demo as',
  connect: 'Connect to a hub',
  hubUrl: 'Hub URL',
  token: 'Token',
  connectButton: 'Connect',
  role_seller: 'seller',
  role_supervisor: 'supervisor',
  role_none: 'no chat access',
  receivesNew: 'receives new clients',
  filterMine: 'Mine to answer',
  filterOthers: 'Waiting for others',
  filterAll: 'All',
  noChats: 'No chats here.',
  pickChat: 'Pick a chat on the left.',
  online: 'Online',
  offline: 'Offline — showing what was synced',
  signOut: 'Sign out',
  markAnswered: 'Mark answered',
  reply: 'Write a reply…',
  send: 'Send',
  you: 'You',
  unanswered: 'unanswered',
  back: 'Back',
  demo: 'Demo',
  settings: 'Settings',
  crmIntegration: 'CRM integration',
  additional: 'Additional',
  saveToTimeline: 'Save messages to the event feed of the lead, contact and deal',
  eightAsPlus7: 'Treat CRM numbers written with 8 as +7 numbers',
  notifySupervisorsAll: 'Notify supervisors about all messages',
  notifySupervisorsAllHint: 'On: supervisors see every unanswered chat red and get every notification. Off: only their own chats; others are grey.',
  escalate: 'Escalate to supervisors after',
  minutes: 'minutes without a reply',
  readOnly: 'Only supervisors can change these settings.',
  close: 'Close',
  newMessage: 'New message',
  searchCrm: 'Find a lead, contact or deal — or type a number',
  writeToNumber: 'Write to this number',
  noMatches: 'Nothing found in the CRM.',
  to: 'To',
  channel: 'Channel',
  chooseChannel: 'Choose a channel',
  reason_not_set: 'You have no priority channel: choose one here.',
  reason_deleted: 'Your priority channel no longer exists: choose another.',
  reason_disabled: 'Your priority channel is switched off: choose another.',
  reason_unauthorized: 'Your priority channel lost its authorisation: choose another.',
  reason_not_active: 'Your priority channel cannot send right now: choose another.',
  why_deleted: 'deleted',
  why_disabled: 'switched off',
  why_unauthorized: 'not authorised',
  why_not_active: 'not active',
  message: 'Message',
  waitingForHub: 'Saved. It will be sent as soon as the hub is reachable.',
  waitingHere: 'Waiting to be sent',
  status_pending: 'waiting for the hub',
  status_queued: 'sending…',
  status_accepted: 'accepted',
  status_sent: 'sent',
  status_delivered: 'delivered',
  status_read: 'read',
  status_error: 'not delivered',
  status_failed: 'not sent',
  retry: 'Retry',
  discard: 'Discard',
  employees: 'Employees',
  name: 'Name',
  role: 'Role',
  priorityChannel: 'Priority channel',
  none: '— none —',
  kind_lead: 'lead',
  kind_contact: 'contact',
  kind_deal: 'deal',
  priority: 'your priority channel',
} as const;

export type Key = keyof typeof en;

const ru: Record<Key, string> = {
  tagline: 'Все разговоры с клиентами — в одном спокойном окне.',
  openDemo: 'Открыть демо-пространство',
  demoHint: 'Пространство на этом компьютере: тестовые каналы, CRM и клиенты, которые время от времени пишут.',
  pickEmployee: 'Войти в демо как',
  connect: 'Подключиться к хабу',
  hubUrl: 'Адрес хаба',
  token: 'Токен',
  connectButton: 'Подключиться',
  role_seller: 'продавец',
  role_supervisor: 'руководитель',
  role_none: 'без доступа к чатам',
  receivesNew: 'получает новых клиентов',
  filterMine: 'Мне ответить',
  filterOthers: 'Ждут других',
  filterAll: 'Все',
  noChats: 'Здесь нет чатов.',
  pickChat: 'Выберите чат слева.',
  online: 'В сети',
  offline: 'Нет связи — показано то, что успело синхронизироваться',
  signOut: 'Выйти',
  markAnswered: 'Ответ не нужен',
  reply: 'Напишите ответ…',
  send: 'Отправить',
  you: 'Вы',
  unanswered: 'без ответа',
  back: 'Назад',
  demo: 'Демо',
  settings: 'Настройки',
  crmIntegration: 'Интеграция с CRM',
  additional: 'Дополнительно',
  saveToTimeline: 'Сохранять сообщения в ленту событий лида, контакта и сделки',
  eightAsPlus7: 'Номера, записанные в CRM через 8, считать номерами с +7',
  notifySupervisorsAll: 'Уведомлять руководителей обо всех сообщениях',
  notifySupervisorsAllHint: 'Включено: руководители видят все неотвеченные чаты красными и получают все уведомления. Выключено: только свои чаты, чужие — серые.',
  escalate: 'Передавать руководителям чаты без ответа дольше',
  minutes: 'минут',
  readOnly: 'Изменять эти настройки могут только руководители.',
  close: 'Закрыть',
  newMessage: 'Новое сообщение',
  searchCrm: 'Найдите лид, контакт или сделку — или введите номер',
  writeToNumber: 'Написать на этот номер',
  noMatches: 'В CRM ничего не нашлось.',
  to: 'Кому',
  channel: 'Канал',
  chooseChannel: 'Выберите канал',
  reason_not_set: 'У вас не задан приоритетный канал: выберите канал здесь.',
  reason_deleted: 'Вашего приоритетного канала больше нет: выберите другой.',
  reason_disabled: 'Ваш приоритетный канал выключен: выберите другой.',
  reason_unauthorized: 'Ваш приоритетный канал не авторизован: выберите другой.',
  reason_not_active: 'Ваш приоритетный канал сейчас не может отправлять: выберите другой.',
  why_deleted: 'удалён',
  why_disabled: 'выключен',
  why_unauthorized: 'не авторизован',
  why_not_active: 'не активен',
  message: 'Сообщение',
  waitingForHub: 'Сохранено. Отправится, как только хаб будет доступен.',
  waitingHere: 'Ждут отправки',
  status_pending: 'ждёт связи с хабом',
  status_queued: 'отправляется…',
  status_accepted: 'принято',
  status_sent: 'отправлено',
  status_delivered: 'доставлено',
  status_read: 'прочитано',
  status_error: 'не доставлено',
  status_failed: 'не отправлено',
  retry: 'Повторить',
  discard: 'Удалить',
  employees: 'Сотрудники',
  name: 'Имя',
  role: 'Роль',
  priorityChannel: 'Приоритетный канал',
  none: '— нет —',
  kind_lead: 'лид',
  kind_contact: 'контакт',
  kind_deal: 'сделка',
  priority: 'ваш приоритетный канал',
};

export type Locale = 'ru' | 'en';

export function pickLocale(languages: readonly string[]): Locale {
  const first = languages[0]?.toLowerCase() ?? '';
  return first.startsWith('ru') ? 'ru' : 'en';
}

export function translator(locale: Locale): (key: Key) => string {
  const table: Record<Key, string> = locale === 'ru' ? ru : en;
  return (key) => table[key];
}

const systemLanguages = typeof navigator === 'undefined' ? [] : navigator.languages ?? [navigator.language];
export const locale: Locale = pickLocale(systemLanguages);
export const t = translator(locale);

/** A time as the list shows it: the clock today, the date otherwise. */
export function shortTime(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(locale, { day: 'numeric', month: 'short' });
}

/** A key built at run time (`reason_${…}`), falling back to the raw value when unknown. */
export function tk(key: string): string {
  return key in en ? t(key as Key) : key;
}
